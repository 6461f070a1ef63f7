/**
 * The engine's tracker writes: the intent (step 5), the exit (step 7, seed
 * improvement 6) and the revert after a definite refusal. Every write is a
 * compare-and-set carrying the lease's fencing token, and every accepted write
 * is published as an exit event.
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus, PriceSource, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { exitCorrelationId } from "../domain/exit-correlation-id.js";
import { type FillLot, averageFillPrice, overfills, settleRefusedAttempt, withAttemptTraded } from "../domain/exit-fill.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitCommand } from "./exit-command.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import type { Clock, ExitEventSink, ExitLog, LockLease, LtpQuote, TrackerStore } from "./ports.js";
import type { RouterOutcome } from "./router-reply.js";

export type IntentResult =
  | { readonly kind: "stored"; readonly tracker: TrackerRecord }
  | { readonly kind: "refused"; readonly outcome: ExitOutcome };

export interface ExitRecorderSettings {
  readonly trackerUpdateRetries: number;
  readonly trackerUpdateBackoffMs: number;
}

type Accepted = Extract<RouterOutcome, { kind: "accepted" }>;

export class ExitRecorder {
  constructor(
    private readonly store: TrackerStore,
    private readonly clock: Clock,
    private readonly events: ExitEventSink,
    private readonly log: ExitLog,
    private readonly settings: ExitRecorderSettings,
  ) {}

  /** ACTIVE → EXITING with the next attempt's correlation id, stored before any order is sent. */
  async persistIntent(tracker: TrackerRecord, command: ExitCommand, lease: LockLease): Promise<IntentResult> {
    const now = this.clock.now();
    const attempt = tracker.exitAttempt + 1;
    const next: TrackerRecord = {
      ...tracker,
      status: TrackerStatus.EXITING,
      exitAttempt: attempt,
      exitCorrelationId: exitCorrelationId(tracker, attempt),
      exitOrderId: "",
      exitReason: command.reason,
      exitReasonCode: command.reasonCode,
      exitRequestedAt: now,
      fencingToken: lease.fencingToken,
      updatedAt: now,
    };
    const written = await this.store.compareAndSet(next, tracker.version);
    switch (written.kind) {
      case "written":
        this.emit(ExitEventKind.INTENT, written.tracker, command.reason);
        return { kind: "stored", tracker: written.tracker };
      case "not-found":
        return { kind: "refused", outcome: exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${tracker.orderNo}` }) };
      default:
        return {
          kind: "refused",
          outcome: exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
            tracker: written.current,
            message: `tracker changed while the exit was starting (${written.kind}); nothing was sent`,
          }),
        };
    }
  }

  /**
   * EXITING → EXITED after an accepted order, retried with backoff. A failed
   * write is followed by a reload: EXITED by someone else (an order update) is
   * success. Otherwise PENDING_RECONCILE: the intent stays for the reconciler.
   */
  async markExited(intent: TrackerRecord, accepted: Accepted, quote: LtpQuote, lease: LockLease, attempts: number): Promise<ExitOutcome> {
    const fill = accepted.fill;
    const priced = {
      attempts,
      exitPrice: fill?.price ?? quote.price,
      priceSource: fill ? PriceSource.FILL : quote.source,
      priceAgeMs: fill ? 0 : quote.ageMs,
      priceStale: fill ? false : quote.stale,
      exitOrderId: accepted.orderId || intent.exitOrderId,
    };
    this.emit(ExitEventKind.ROUTER_ACCEPTED, intent, `order ${accepted.orderId || "(no id)"} accepted`);
    let current = intent;
    let lastProblem = "";
    for (let retry = 0; retry <= this.settings.trackerUpdateRetries; retry++) {
      if (retry > 0) {
        await this.clock.sleep(this.settings.trackerUpdateBackoffMs * 2 ** (retry - 1));
        const reloaded = await this.store.get(intent.orderNo).catch(() => undefined);
        if (reloaded) current = reloaded;
      }
      if (current.status === TrackerStatus.EXITED && current.exitCorrelationId === intent.exitCorrelationId) {
        return exitOutcome(ExitStatus.EXITED, { ...priced, tracker: current, exitPrice: current.exitPrice, message: "exited (recorded by an order update)" });
      }
      if (current.status === TrackerStatus.ACTIVE && current.exitCorrelationId === intent.exitCorrelationId) {
        return exitOutcome(ExitStatus.ROUTER_REJECTED, {
          ...priced,
          exitPrice: current.exitPrice,
          tracker: current,
          message: "order accepted, then refused by the broker (recorded by an order update); the tracker is ACTIVE",
        });
      }
      if (current.status !== TrackerStatus.EXITING || current.exitCorrelationId !== intent.exitCorrelationId) {
        lastProblem = `tracker moved to ${TrackerStatus[current.status]} attempt ${current.exitAttempt}`;
        break;
      }
      const now = this.clock.now();
      const next: TrackerRecord = {
        ...current,
        ...exitedFill(current, fill, quote),
        status: TrackerStatus.EXITED,
        exitOrderId: priced.exitOrderId,
        exitedAt: now,
        // Our own token: if a newer holder wrote since, the store must refuse us.
        fencingToken: lease.fencingToken,
        updatedAt: now,
      };
      try {
        const written = await this.store.compareAndSet(next, current.version);
        if (written.kind === "written") {
          this.emit(ExitEventKind.EXITED, written.tracker, intent.exitReason, ExitStatus.EXITED);
          return exitOutcome(ExitStatus.EXITED, { ...priced, tracker: written.tracker, exitPrice: written.tracker.exitPrice, message: "exited" });
        }
        lastProblem = `tracker write ${written.kind}`;
        if (written.kind !== "not-found") current = written.current;
        if (written.kind === "fenced") break;
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
        this.log.warn({ orderNo: intent.orderNo, retry, err: error }, "tracker update after an accepted exit failed");
      }
    }
    this.log.error({ orderNo: intent.orderNo, correlationId: intent.exitCorrelationId, problem: lastProblem }, "exit order accepted but tracker not updated");
    this.emit(ExitEventKind.PENDING_RECONCILE, current, lastProblem, ExitStatus.PENDING_RECONCILE);
    return exitOutcome(ExitStatus.PENDING_RECONCILE, {
      ...priced,
      tracker: current,
      correlationId: intent.exitCorrelationId,
      message: `order accepted but the tracker update failed (${lastProblem}); the intent is kept for reconciliation`,
    });
  }

  /**
   * EXITING → ACTIVE after a definite refusal. What the refused order traded
   * (`traded`, a partial fill) is kept as exited, so the next attempt exits
   * only the residual. On failure the tracker stays EXITING for the
   * reconciler; never throws.
   */
  async revertToActive(intent: TrackerRecord, lease: LockLease, why: string, traded?: FillLot): Promise<TrackerRecord> {
    const now = this.clock.now();
    const next: TrackerRecord = {
      ...intent,
      ...settleRefusedAttempt(intent, traded),
      exitedAt: undefined,
      status: TrackerStatus.ACTIVE,
      fencingToken: lease.fencingToken,
      updatedAt: now,
    };
    try {
      const written = await this.store.compareAndSet(next, intent.version);
      if (written.kind === "written") {
        this.emit(ExitEventKind.REVERTED, written.tracker, why);
        return written.tracker;
      }
      this.log.warn({ orderNo: intent.orderNo, result: written.kind }, "revert of a refused exit was not written");
      return written.kind === "not-found" ? intent : written.current;
    } catch (error) {
      this.log.error({ orderNo: intent.orderNo, err: error }, "revert of a refused exit failed; the reconciler will retry it");
      return intent;
    }
  }

  emit(kind: ExitEventKind, tracker: TrackerRecord, message: string, status?: ExitStatus): void {
    this.events.publish({
      kind,
      tracker,
      ...(status === undefined ? {} : { status }),
      correlationId: tracker.exitCorrelationId,
      timeMs: this.clock.now(),
      message,
    });
  }
}

/**
 * The fill fields of an accepted exit: the reported fill when there is one,
 * else the whole open quantity at the LTP, averaged with what already traded.
 * Later order updates correct an estimate with the broker's numbers.
 */
function exitedFill(current: TrackerRecord, fill: Accepted["fill"], quote: LtpQuote): Pick<TrackerRecord, "exitedQuantity" | "exitPrice"> {
  if (fill && !overfills(current, fill)) return withAttemptTraded(current, fill);
  const rest = { quantity: current.quantity.minus(current.exitedQuantity), ...(quote.price ? { price: quote.price } : {}) };
  const exitPrice = averageFillPrice({ quantity: current.exitedQuantity, ...(current.exitPrice ? { price: current.exitPrice } : {}) }, rest);
  return { exitedQuantity: current.quantity, exitPrice: exitPrice ?? current.exitPrice };
}
