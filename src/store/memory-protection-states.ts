/**
 * The embedded protection states: one Map, merged forward only
 * (protection-state-merge.ts); claims lapse after their TTL on the injected
 * clock. Single process only; atomic because nothing awaits mid-update.
 */
import type { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ProtectionState } from "../domain/exit-plan.js";
import type { ProtectionAdvance, ProtectionStates } from "../exit/ports.js";
import { mergeProtectionState } from "../protection/protection-state-merge.js";

export class MemoryProtectionStates implements ProtectionStates {
  private readonly states = new Map<string, ProtectionState>();
  private readonly claims = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(orderNos: readonly string[]): Promise<Map<string, ProtectionState>> {
    const found = new Map<string, ProtectionState>();
    for (const orderNo of orderNos) {
      const state = this.states.get(orderNo);
      if (state) found.set(orderNo, state);
    }
    return found;
  }

  async advance(orderNo: string, side: Side, state: ProtectionState): Promise<ProtectionState> {
    return this.merge(orderNo, side, state);
  }

  async advanceMany(entries: readonly ProtectionAdvance[]): Promise<ProtectionState[]> {
    return entries.map((entry) => this.merge(entry.orderNo, entry.side, entry.state, entry.basis));
  }

  async claimTrigger(orderNo: string, claim: string, ttlMs: number): Promise<boolean> {
    const key = `${orderNo}\u0000${claim}`;
    const now = this.now();
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    this.claims.set(key, now + ttlMs);
    return true;
  }

  async remove(orderNo: string): Promise<void> {
    this.states.delete(orderNo);
    for (const key of this.claims.keys()) if (key.startsWith(`${orderNo}\u0000`)) this.claims.delete(key);
  }

  private merge(orderNo: string, side: Side, state: ProtectionState, basis?: ProtectionState): ProtectionState {
    const current = this.states.get(orderNo);
    // Still the state answered last: nothing else wrote since, and `state` is forward of it by the
    // caller's word (the numbers are checked, the decimals are not compared again).
    const unchanged =
      basis !== undefined &&
      current === basis &&
      state.planVersion === basis.planVersion &&
      (state.lastTickTimeMs ?? 0) >= (basis.lastTickTimeMs ?? 0);
    const merged = unchanged ? state : mergeProtectionState(current, state, side);
    this.states.set(orderNo, merged);
    return merged;
  }
}
