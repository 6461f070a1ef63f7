/**
 * Protection states in Redis, beside the trackers, so every process of a
 * fleet (and a restarted one) protects with the same trail and peak.
 *
 * Layout (prefix P): `P protection:{order_no}`, a hash of the state's fields
 * (decimals as plain decimal strings); `P trigger-claim:{order_no}:{claim}`,
 * a key set NX with a TTL by the process that starts that trigger's exit.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ProtectionState } from "../domain/exit-plan.js";
import { formatDecimal, Money } from "../domain/money.js";
import type { ProtectionAdvance, ProtectionStates } from "../exit/ports.js";
import { redisCommand } from "./redis-command.js";
import { PROTECTION_FIELDS } from "./redis-protection-scripts.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

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
    const sent = encodeState(state);
    const reply = await this.call("advance", () => this.client.protectionAdvance(this.stateKey(orderNo), Side[side], sent));
    return storedAfter(state, sent, reply);
  }

  async advanceMany(entries: readonly ProtectionAdvance[]): Promise<ProtectionState[]> {
    if (entries.length === 0) return [];
    const sent = entries.map((entry) => encodeState(entry.state));
    // Issued together, node-redis pipelines them: one round trip's wait for the batch, not one per state.
    const replies = await this.call("advance", () =>
      Promise.all(
        entries.map((entry, index) => this.client.protectionAdvance(this.stateKey(entry.orderNo), Side[entry.side], sent[index]!)),
      ),
    );
    return replies.map((reply, index) => storedAfter(entries[index]!.state, sent[index]!, reply));
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

/**
 * The state the store holds after an advance: `state` itself when the script kept exactly the fields sent
 * (the common case: nothing else wrote further), so that the caller sees at once that nothing is to be
 * merged back; else the fields it answered, decoded.
 */
function storedAfter(state: ProtectionState, sent: readonly string[], reply: readonly string[]): ProtectionState {
  if (reply.length === sent.length && reply.every((field, index) => field === sent[index])) return state;
  return decodeState(reply);
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
