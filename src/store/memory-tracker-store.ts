/**
 * The embedded tracker store: one Map, compare-and-set on version, fencing
 * and the transition table enforced exactly as the Redis store does. Single
 * process only; every method is atomic because it never awaits mid-update.
 * Given a change log, it appends to it the writes that matter to protection
 * (protection-change-log.ts), as the Redis store does in its scripts.
 */
import { ZERO } from "../domain/money.js";
import { sameSpec, type TrackerRecord, type TrackerSpec } from "../domain/tracker.js";
import { assertLegalTransition } from "../domain/tracker-transitions.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { CompareAndSetOutcome, TrackerPage, TrackerQuery, TrackerStore } from "../exit/ports.js";
import { isProtectionChange } from "../protection/protection-change-log.js";
import type { MemoryProtectionChangeLog } from "./memory-protection-change-log.js";
import { matchesQuery, newTrackerFromSpec } from "./tracker-query.js";

export class MemoryTrackerStore implements TrackerStore {
  private readonly trackers = new Map<string, TrackerRecord>();
  private readonly byCorrelationId = new Map<string, string>();
  /**
   * The order numbers in cursor order, sorted again only after a registration: the reconciler and
   * the protection refresh page through the store every few seconds, and sorting 100,000 keys for
   * every page stalled the event loop for tens of milliseconds.
   */
  private sorted: string[] | undefined;

  constructor(private readonly changes?: MemoryProtectionChangeLog) {}

  async register(spec: TrackerSpec, nowMs: number): Promise<{ tracker: TrackerRecord; created: boolean }> {
    const existing = this.trackers.get(spec.orderNo);
    if (existing) {
      if (!sameSpec(existing, spec)) {
        throw new TradingCoreError("conflict", `order_no ${spec.orderNo} is already registered with different fields`);
      }
      return { tracker: existing, created: false };
    }
    const tracker = newTrackerFromSpec(spec, nowMs);
    this.trackers.set(spec.orderNo, tracker);
    this.sorted = undefined;
    if (isProtectionChange(undefined, tracker)) this.changes?.append(tracker.orderNo, tracker.version);
    return { tracker, created: true };
  }

  async get(orderNo: string): Promise<TrackerRecord | undefined> {
    return this.trackers.get(orderNo);
  }

  async compareAndSet(next: TrackerRecord, expectedVersion: number): Promise<CompareAndSetOutcome> {
    const current = this.trackers.get(next.orderNo);
    if (!current) return { kind: "not-found" };
    if (next.fencingToken < current.fencingToken) return { kind: "fenced", current };
    if (current.version !== expectedVersion) return { kind: "version-mismatch", current };
    assertLegalTransition(next.orderNo, current.status, next.status);
    if (next.exitedQuantity.greaterThan(next.quantity) || next.exitedQuantity.lessThan(ZERO)) {
      throw new TradingCoreError("invalid-argument", `tracker ${next.orderNo}: exited_quantity outside 0..quantity`);
    }
    const written: TrackerRecord = { ...next, version: expectedVersion + 1 };
    this.trackers.set(next.orderNo, written);
    if (isProtectionChange(current, written)) this.changes?.append(written.orderNo, written.version);
    if (written.exitCorrelationId) this.byCorrelationId.set(written.exitCorrelationId, written.orderNo);
    return { kind: "written", tracker: written };
  }

  async list(query: TrackerQuery, page: { after?: string; limit: number }): Promise<TrackerPage> {
    this.sorted ??= [...this.trackers.keys()].sort();
    const orderNos = this.sorted;
    const trackers: TrackerRecord[] = [];
    for (let at = page.after === undefined ? 0 : firstAfter(orderNos, page.after); at < orderNos.length; at++) {
      const orderNo = orderNos[at]!;
      const tracker = this.trackers.get(orderNo)!;
      if (!matchesQuery(tracker, query)) continue;
      if (trackers.length === page.limit) return { trackers, nextCursor: trackers[trackers.length - 1]!.orderNo };
      trackers.push(tracker);
    }
    return { trackers };
  }

  async findByCorrelationId(correlationId: string): Promise<TrackerRecord | undefined> {
    const orderNo = this.byCorrelationId.get(correlationId);
    return orderNo === undefined ? undefined : this.trackers.get(orderNo);
  }

  /** Number of trackers held; for tests and metrics. */
  get size(): number {
    return this.trackers.size;
  }
}

/** The index of the first of the sorted `orderNos` after `after`. */
function firstAfter(orderNos: readonly string[], after: string): number {
  let low = 0;
  let high = orderNos.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (orderNos[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}
