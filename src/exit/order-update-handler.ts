/**
 * Broker order updates for exit orders (the seed's OrderUpdateHandler): the
 * path by which fills and refusals reach a tracker even when the engine's own
 * write failed or has not happened yet.
 *
 * Guarantees:
 * - Idempotent and safe in any order: what an update does is decided by
 *   `orderUpdateChange` against the stored tracker and written by
 *   compare-and-set, so duplicates, out-of-order updates and an update that
 *   arrives before the router's answer all end in the same tracker.
 * - An update for a correlation id no tracker has is kept (at most
 *   `maxParked` updates and about `maxParkedBytes` of memory, for at most
 *   `parkedTtlMs`; the oldest are dropped first, each logged as an error),
 *   reported in the answer, and applied by `retryParked` once the tracker
 *   appears.
 * - A refusal that sends a tracker back to ACTIVE is passed to `onRefused`
 *   (the reconciler's `owe`), so the residual is exited again within budget.
 * - An update for one slice of a sliced exit (its correlation id the
 *   attempt's with `s1`, `s2`, …) changes nothing by itself: it wakes the
 *   exit waiting on the attempt, which looks every slice up.
 * - An update for an earlier exit attempt of a tracker changes nothing and is
 *   answered at once (not parked); if it reports a fill, that is logged as an
 *   error: the position may have been exited by two orders.
 */
import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { attemptOfSlice } from "../domain/exit-correlation-id.js";
import { excerpt } from "../domain/text-excerpt.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { type OrderUpdate, type OrderUpdateChange, orderUpdateChange } from "./order-update-change.js";
import type { OrderUpdateSignals } from "./order-update-signals.js";
import type { Clock, CompareAndSetOutcome, ExitEventSink, ExitLog, OrderUpdateSink, TrackerStore } from "./ports.js";
import type { WritesInDoubt } from "./writes-in-doubt.js";

export type { OrderUpdate } from "./order-update-change.js";

export interface OrderUpdateResult {
  /** False when nothing changed (a duplicate, a stale update, or one parked for later). */
  readonly applied: boolean;
  readonly tracker?: TrackerRecord;
  readonly message: string;
  /** True when no tracker has the correlation id yet: the update is kept and applied when one appears. */
  readonly parked?: boolean;
}

export interface OrderUpdateHandlerOptions {
  /** Updates kept for unknown correlation ids, in total. */
  readonly maxParked?: number;
  /** Memory those updates may take, in total, bytes (as `parkedBytesOf` estimates it). */
  readonly maxParkedBytes?: number;
  /** How long a parked update waits for its tracker before it is dropped with an error log, ms. */
  readonly parkedTtlMs?: number;
  readonly log?: ExitLog;
  /** Called with the order_no of a tracker an update sent back to ACTIVE. */
  readonly onRefused?: (orderNo: string) => void;
  /** Told the correlation id of every update that changed a tracker (wakes exits waiting for a fill). */
  readonly signals?: OrderUpdateSignals;
  /** Holds a write whose reply was lost, with its event, until a read shows whether it was applied; none when absent. */
  readonly writesInDoubt?: WritesInDoubt;
}

export const DEFAULT_MAX_PARKED_UPDATES = 10_000;
export const DEFAULT_MAX_PARKED_BYTES = 16 * 1024 * 1024;
/** What a parked update costs besides its strings: the entry, its decimals, the map slot. An estimate, on the high side. */
const PARKED_ENTRY_BYTES = 512;

/** The memory one parked update is counted as taking, bytes: its caller-chosen strings (two bytes a character) and the rest. */
export function parkedBytesOf(update: OrderUpdate): number {
  return PARKED_ENTRY_BYTES + 2 * (update.correlationId.length + update.orderId.length);
}
export const DEFAULT_PARKED_TTL_MS = 3_600_000;

interface ParkedUpdate {
  readonly update: OrderUpdate;
  readonly parkedAtMs: number;
}
const MAX_RACES = 5;

export class OrderUpdateHandler implements OrderUpdateSink {
  /** Parked updates in arrival order, by correlation id. */
  private readonly parked = new Map<string, ParkedUpdate[]>();
  private parkedTotal = 0;
  private parkedBytes = 0;
  private readonly maxParked: number;
  private readonly maxParkedBytes: number;
  /** Set by the composition root once the reconciler exists. */
  onRefused: ((orderNo: string) => void) | undefined;

  constructor(
    private readonly store: TrackerStore,
    private readonly clock: Clock,
    private readonly events: ExitEventSink,
    private readonly options: OrderUpdateHandlerOptions = {},
  ) {
    this.maxParked = options.maxParked ?? DEFAULT_MAX_PARKED_UPDATES;
    this.maxParkedBytes = options.maxParkedBytes ?? DEFAULT_MAX_PARKED_BYTES;
    this.onRefused = options.onRefused;
  }

  async apply(update: OrderUpdate, options: { readonly owe?: boolean } = {}): Promise<OrderUpdateResult> {
    const attempt = attemptOfSlice(update.correlationId);
    if (attempt) return this.forSlice(attempt, update);
    for (let race = 0; race < MAX_RACES; race++) {
      const tracker = await this.store.findByCorrelationId(update.correlationId);
      if (tracker) this.options.writesInDoubt?.settleWith(tracker.orderNo, tracker);
      if (!tracker) return this.park(update);
      if (tracker.exitCorrelationId !== update.correlationId) return this.forEarlierAttempt(tracker, update);
      const change = orderUpdateChange(tracker, update, this.clock.now());
      if (change.kind === "none") return { applied: false, tracker, message: change.why };
      if (change.kind === "refused") {
        this.options.log?.error(
          { orderNo: tracker.orderNo, correlationId: update.correlationId, orderId: update.orderId },
          `order update refused: ${change.why}`,
        );
        return { applied: false, tracker, message: `refused: ${change.why}` };
      }
      const written = await this.write(change, tracker);
      if (written.kind !== "written") continue;
      this.events.publish({
        kind: change.event,
        tracker: written.tracker,
        ...(change.status === undefined ? {} : { status: change.status }),
        correlationId: update.correlationId,
        timeMs: this.clock.now(),
        message: change.message,
      });
      this.options.signals?.notify(update.correlationId);
      if (change.status === ExitStatus.ROUTER_REJECTED && options.owe !== false) this.onRefused?.(written.tracker.orderNo);
      return { applied: true, tracker: written.tracker, message: change.message };
    }
    return { applied: false, message: `tracker kept changing; update for ${excerpt(update.correlationId, 64)} not applied, send it again` };
  }

  /** The change's compare-and-set; one that throws is held in doubt with its event (writes-in-doubt.ts). */
  private write(change: Extract<OrderUpdateChange, { kind: "write" }>, tracker: TrackerRecord): Promise<CompareAndSetOutcome> {
    const inDoubt = this.options.writesInDoubt;
    if (!inDoubt) return this.store.compareAndSet(change.next, tracker.version);
    return inDoubt.compareAndSet(this.store, change.next, tracker.version, {
      kind: change.event,
      ...(change.status === undefined ? {} : { status: change.status }),
      message: change.message,
    });
  }

  /**
   * An update for one slice of a sliced exit says nothing of the whole
   * attempt's quantity: it is not applied; the exit waiting on the attempt is
   * woken to look the whole order up (its slices together), and the
   * reconciler does the same every pass.
   */
  private forSlice(attempt: string, update: OrderUpdate): OrderUpdateResult {
    this.options.signals?.notify(attempt);
    return {
      applied: false,
      message: `update for a slice (${excerpt(update.correlationId, 64)}) of exit attempt ${attempt}: not applied by itself; the attempt is looked up as a whole`,
    };
  }

  /** Nothing to apply: the tracker has moved on to a later attempt. A fill reported for the old one is worth a person's look. */
  private forEarlierAttempt(tracker: TrackerRecord, update: OrderUpdate): OrderUpdateResult {
    const filled = update.tradedQuantity !== undefined && update.tradedQuantity.gt(0);
    const message =
      `update for an earlier exit attempt of ${tracker.orderNo} (${excerpt(update.correlationId, 64)}; the tracker is at attempt ${tracker.exitAttempt}, ` +
      `${tracker.exitCorrelationId}): not applied`;
    if (filled) {
      this.options.log?.error(
        {
          orderNo: tracker.orderNo,
          correlationId: update.correlationId,
          orderId: update.orderId,
          status: BrokerOrderStatus[update.status],
          tradedQuantity: update.tradedQuantity!.toFixed(),
        },
        "order update reports a fill for an earlier exit attempt: unless it repeats a fill already recorded, the position was exited by more than one order; check the broker",
      );
    }
    return {
      applied: false,
      tracker,
      message: filled ? `${message}; it reports ${update.tradedQuantity!.toFixed()} traded, logged for checking` : message,
    };
  }

  /**
   * Applies the parked updates whose tracker now exists, in arrival order,
   * and drops (with an error log) those older than `parkedTtlMs`; answers how
   * many changed a tracker.
   */
  async retryParked(): Promise<number> {
    let applied = 0;
    const expiredBefore = this.clock.now() - (this.options.parkedTtlMs ?? DEFAULT_PARKED_TTL_MS);
    for (const [correlationId, updates] of [...this.parked]) {
      if (!(await this.store.findByCorrelationId(correlationId))) {
        this.dropExpired(correlationId, updates, expiredBefore);
        continue;
      }
      this.parked.delete(correlationId);
      this.parkedTotal -= updates.length;
      for (const { update } of updates) this.parkedBytes -= parkedBytesOf(update);
      for (const { update } of updates) if ((await this.apply(update)).applied) applied++;
    }
    return applied;
  }

  /** Updates kept for correlation ids no tracker has (yet). */
  get parkedCount(): number {
    return this.parkedTotal;
  }

  /** The memory the parked updates are counted as taking, bytes (`parkedBytesOf`). */
  get parkedByteCount(): number {
    return this.parkedBytes;
  }

  private park(update: OrderUpdate): OrderUpdateResult {
    const entry = { update, parkedAtMs: this.clock.now() };
    const list = this.parked.get(update.correlationId);
    if (list) list.push(entry);
    else this.parked.set(update.correlationId, [entry]);
    this.parkedTotal++;
    this.parkedBytes += parkedBytesOf(update);
    while (this.parkedTotal > this.maxParked || (this.parkedBytes > this.maxParkedBytes && this.parkedTotal > 0)) this.evictOldest();
    this.options.log?.warn(
      { correlationId: update.correlationId, orderId: update.orderId, parked: this.parkedTotal },
      "order update for an unknown exit correlation id kept for later",
    );
    return {
      applied: false,
      parked: true,
      message: `no tracker has exit correlation id ${excerpt(update.correlationId, 64)}; the update is kept and applied when it appears`,
    };
  }

  private evictOldest(): void {
    const [correlationId, updates] = this.parked.entries().next().value as [string, ParkedUpdate[]];
    const dropped = updates.shift()!;
    this.parkedTotal--;
    this.parkedBytes -= parkedBytesOf(dropped.update);
    if (updates.length === 0) this.parked.delete(correlationId);
    this.options.log?.error(
      {
        correlationId,
        orderId: dropped.update.orderId,
        status: BrokerOrderStatus[dropped.update.status],
        maxParked: this.maxParked,
        maxParkedBytes: this.maxParkedBytes,
      },
      "parked order update dropped: too many updates (or bytes) for unknown correlation ids",
    );
  }

  private dropExpired(correlationId: string, updates: ParkedUpdate[], expiredBefore: number): void {
    const kept = updates.filter((entry) => entry.parkedAtMs >= expiredBefore);
    if (kept.length === updates.length) return;
    for (const { update } of updates.filter((entry) => entry.parkedAtMs < expiredBefore)) {
      this.parkedBytes -= parkedBytesOf(update);
      this.options.log?.error(
        { correlationId, orderId: update.orderId, status: BrokerOrderStatus[update.status] },
        "parked order update dropped: no tracker with its correlation id appeared in time",
      );
    }
    this.parkedTotal -= updates.length - kept.length;
    if (kept.length === 0) this.parked.delete(correlationId);
    else this.parked.set(correlationId, kept);
  }
}
