/**
 * Protection states in Redis, beside the trackers, so every process of a
 * fleet (and a restarted one) protects with the same trail and peak.
 *
 * Layout (prefix P): `P protection:{order_no}`, a hash of the state's fields
 * (decimals as plain decimal strings, "" for an absent field: every write sets all of them); `P trigger-claim:{order_no}:{claim}`,
 * a key set NX with a TTL by the process that starts that trigger's exit.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ProtectionState } from "../domain/exit-plan.js";
import { formatDecimal, Money } from "../domain/money.js";
import type { ProtectionAdvance, ProtectionStates } from "../exit/ports.js";
import { redisCommand } from "./redis-command.js";
import { PROTECTION_FIELDS, type ProtectionStateArguments } from "./redis-protection-scripts.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

/**
 * States merged per script call. One call per state cost a command's whole overhead (its promise,
 * timer, reply of eight fields) 50,000 times a second in a trend; a call of thousands would hold
 * Redis, which runs one script at a time, for milliseconds that the fleet's locks wait behind.
 */
const STATES_PER_SCRIPT = 100;

export class RedisProtectionStates implements ProtectionStates {
  constructor(
    private readonly client: RedisTrackerClient,
    private readonly keyPrefix: string,
    private readonly commandTimeoutMs: number,
  ) {}

  async get(orderNos: readonly string[]): Promise<Map<string, ProtectionState>> {
    const found = new Map<string, ProtectionState>();
    if (orderNos.length === 0) return found;
    const replies = await this.call("read", () =>
      Promise.all(orderNos.map((orderNo) => this.client.hmGet(this.stateKey(orderNo), [...PROTECTION_FIELDS]))),
    );
    replies.forEach((values, index) => {
      const fields = values.map((value) => (value === null || value === undefined ? "" : String(value)));
      if (fields[0] !== "") found.set(orderNos[index]!, decodeState(fields));
    });
    return found;
  }

  async advance(orderNo: string, side: Side, state: ProtectionState): Promise<ProtectionState> {
    const [stored] = await this.advanceMany([{ orderNo, side, state }]);
    return stored!;
  }

  async advanceMany(entries: readonly ProtectionAdvance[]): Promise<ProtectionState[]> {
    if (entries.length === 0) return [];
    const sent = entries.map((entry) => encodeState(entry.state));
    const calls: Array<Promise<Array<string[] | undefined>>> = [];
    const issue = () => {
      for (let from = 0; from < entries.length; from += STATES_PER_SCRIPT) {
        const states: ProtectionStateArguments[] = [];
        for (let index = from; index < Math.min(from + STATES_PER_SCRIPT, entries.length); index++) {
          const entry = entries[index]!;
          states.push({ key: this.stateKey(entry.orderNo), side: Side[entry.side], fields: sent[index]! });
        }
        calls.push(this.client.protectionAdvance(states));
      }
      // Issued together, node-redis pipelines them: one round trip's wait for the batch, not one per call.
      return Promise.all(calls);
    };
    const replies = (await this.call("advance", issue)).flat();
    return entries.map((entry, index) => {
      const stored = replies[index];
      return stored === undefined ? entry.state : decodeState(stored);
    });
  }

  async claimTrigger(orderNo: string, claim: string, ttlMs: number): Promise<boolean> {
    const key = `${this.keyPrefix}trigger-claim:${orderNo}:${claim}`;
    const reply = await this.call("claim a trigger", () =>
      this.client.set(key, "1", { condition: "NX", expiration: { type: "PX", value: ttlMs } }),
    );
    return reply === "OK";
  }

  async remove(orderNo: string): Promise<void> {
    await this.call("remove", () => this.client.del(this.stateKey(orderNo)));
  }

  private stateKey(orderNo: string): string {
    return `${this.keyPrefix}protection:${orderNo}`;
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`protection states ${what}`, this.commandTimeoutMs, operation);
  }
}

/** The state as the script's fields, in PROTECTION_FIELDS order. */
export function encodeState(state: ProtectionState): string[] {
  return [
    String(state.planVersion),
    state.trailArmed ? "1" : "0",
    formatDecimal(state.trailHighWater),
    formatDecimal(state.trailLevel),
    state.peakArmed ? "1" : "0",
    formatDecimal(state.peakProfit),
    state.lastTickTimeMs === undefined ? "" : String(state.lastTickTimeMs),
    formatDecimal(state.lastTickPrice),
  ];
}

export function decodeState(fields: readonly string[]): ProtectionState {
  const [planVersion, trailArmed, trailHighWater, trailLevel, peakArmed, peakProfit, lastTickTimeMs, lastTickPrice] = fields;
  return {
    planVersion: Number(planVersion),
    trailArmed: trailArmed === "1",
    ...(trailHighWater ? { trailHighWater: new Money(trailHighWater) } : {}),
    ...(trailLevel ? { trailLevel: new Money(trailLevel) } : {}),
    peakArmed: peakArmed === "1",
    ...(peakProfit ? { peakProfit: new Money(peakProfit) } : {}),
    ...(lastTickTimeMs ? { lastTickTimeMs: Number(lastTickTimeMs) } : {}),
    ...(lastTickPrice ? { lastTickPrice: new Money(lastTickPrice) } : {}),
  };
}
