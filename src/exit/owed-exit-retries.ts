/**
 * The exits the reconciler owes a retry (step 3 of a pass): trackers it sent
 * back to ACTIVE after a refusal, and those an order update refused after the
 * system had answered for them. Each retry is a new attempt, through the
 * engine under the exit lock, for the open quantity only; after
 * `retryBudget` of them the exit is reported (an error log and a RECONCILED
 * event with ROUTER_REJECTED) and left ACTIVE.
 *
 * Kept in memory and written through to `owedExits` (Redis when configured),
 * so a restarted process carries on with the retries already used. A failed
 * write there is logged; this process still retries from memory.
 */
import { ExitReasonCode, ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitEngine } from "./exit-engine.js";
import type { ExitOutcome } from "./exit-outcome.js";
import { BATCH_SPANS, type TraceParent, inParentSpan } from "./exit-tracing.js";
import type { Clock, ExitLog, OwedExits, TrackerStore } from "./ports.js";
import type { ReconcilerCounters } from "./reconciler-counters.js";

export interface OwedExitRetriesDeps {
  readonly engine: Pick<ExitEngine, "execute">;
  readonly store: Pick<TrackerStore, "get">;
  readonly clock: Clock;
  readonly log: ExitLog;
  readonly owedExits?: OwedExits;
  readonly retryBudget: number;
  /** Publishes a RECONCILED event for the tracker. */
  readonly report: (tracker: TrackerRecord, status: ExitStatus, message: string) => void;
}

export class OwedExitRetries {
  private readonly owed = new Map<string, { retries: number }>();
  /** Whether the owed exits recorded by earlier processes have been read. */
  private loaded = false;

  constructor(private readonly deps: OwedExitRetriesDeps) {}

  /** Exits owed a retry now. */
  get size(): number {
    return this.owed.size;
  }

  /** Records that `orderNo` is owed a retry; one already owed keeps its count. */
  owe(orderNo: string): void {
    if (this.owed.has(orderNo)) return;
    this.owed.set(orderNo, { retries: 0 });
    this.persist(orderNo, "record an owed retry", (owed) => owed.owe(orderNo));
  }

  /** `orderNo` is owed nothing any more. */
  settle(orderNo: string): void {
    if (!this.owed.delete(orderNo)) return;
    this.persist(orderNo, "settle an owed retry", (owed) => owed.settle(orderNo));
  }

  /** Once per process: the exits earlier processes were owed, with the retries they used. */
  async load(tally: ReconcilerCounters): Promise<void> {
    if (this.loaded || !this.deps.owedExits) return;
    try {
      for (const [orderNo, retries] of await this.deps.owedExits.all()) if (!this.owed.has(orderNo)) this.owed.set(orderNo, { retries });
      this.loaded = true;
    } catch (error) {
      tally.failures++;
      this.deps.log.error({ err: error }, "reconciler could not read the owed retries; the next pass tries again");
    }
  }

  /** One retry per owed exit whose tracker is ACTIVE again. */
  async retryAll(tally: ReconcilerCounters, pass: TraceParent, stopping: () => boolean): Promise<void> {
    for (const [orderNo, debt] of this.owed) {
      if (stopping()) return;
      const tracker = await this.deps.store.get(orderNo).catch(() => undefined);
      if (tracker?.status === TrackerStatus.EXITING) continue;
      if (tracker?.status !== TrackerStatus.ACTIVE) {
        this.settle(orderNo);
        continue;
      }
      if (debt.retries >= this.deps.retryBudget) {
        this.giveUp(tracker, tally);
        continue;
      }
      debt.retries++;
      tally.retried++;
      await this.retryOne(tracker, debt, tally, pass);
    }
  }

  private async retryOne(tracker: TrackerRecord, debt: { retries: number }, tally: ReconcilerCounters, pass: TraceParent): Promise<void> {
    const reasonCode = tracker.exitReasonCode === ExitReasonCode.UNSPECIFIED ? ExitReasonCode.RECONCILED : tracker.exitReasonCode;
    let outcome: ExitOutcome;
    try {
      // No fill wait: a live order is followed by the next passes, not waited on here.
      const command = {
        orderNo: tracker.orderNo,
        reason: tracker.exitReason.trim() || "reconciler retry",
        reasonCode,
        answerByMs: this.deps.clock.now(),
      };
      outcome = await inParentSpan(pass, BATCH_SPANS.reconcilerRetry, (_span, retry) => this.deps.engine.execute(command, retry), {
        order_no: tracker.orderNo,
      });
    } catch (error) {
      tally.failures++;
      debt.retries--;
      this.deps.log.error({ orderNo: tracker.orderNo, err: error }, "reconciler retry failed before any order; tried again next pass");
      return;
    }
    switch (outcome.status) {
      case ExitStatus.EXITED:
      case ExitStatus.ALREADY_EXITED:
        tally.exited++;
        this.settle(tracker.orderNo);
        break;
      case ExitStatus.EXIT_IN_PROGRESS:
      case ExitStatus.LOCK_UNAVAILABLE:
      case ExitStatus.ROUTER_UNAVAILABLE:
        debt.retries--; // nothing reached the broker: not a used retry
        break;
      case ExitStatus.NOT_ACTIVE:
      case ExitStatus.TRACKER_NOT_FOUND:
      case ExitStatus.INVALID_REQUEST:
        this.settle(tracker.orderNo);
        break;
      default: // refused again, awaiting its fill or unknown (EXITING: later passes follow it)
        this.persist(tracker.orderNo, "record a retry", (owed) => owed.retried(tracker.orderNo, debt.retries));
        break;
    }
    this.deps.report(
      outcome.tracker ?? tracker,
      outcome.status,
      `reconciler retry ${debt.retries} of ${this.deps.retryBudget}: ${outcome.message}`,
    );
  }

  private giveUp(tracker: TrackerRecord, tally: ReconcilerCounters): void {
    tally.retriesExhausted++;
    this.settle(tracker.orderNo);
    const open = tracker.quantity.minus(tracker.exitedQuantity).toFixed();
    const message = `exit refused ${this.deps.retryBudget + 1} times; retry budget exhausted, position stays ACTIVE with ${open} open`;
    this.deps.log.error({ orderNo: tracker.orderNo, correlationId: tracker.exitCorrelationId, open }, message);
    this.deps.report(tracker, ExitStatus.ROUTER_REJECTED, message);
  }

  /** Writes through to the durable record without holding up the pass; a failure is logged, memory stays right. */
  private persist(orderNo: string, what: string, write: (owed: OwedExits) => Promise<void>): void {
    const owedExits = this.deps.owedExits;
    if (!owedExits) return;
    write(owedExits).catch((error: unknown) => this.deps.log.error({ orderNo, err: error }, `reconciler could not ${what}`));
  }
}
