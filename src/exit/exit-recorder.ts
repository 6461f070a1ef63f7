/**
 * The engine's tracker writes: the intent (step 5), the exit once filled
 * (step 7, seed improvement 6), the order id of a live order, and the revert
 * after a definite refusal. Every write is a
 * compare-and-set carrying the lease's fencing token, and every accepted write
 * is published as an exit event. A write that threw may have been applied
 * (its reply lost): it is held in doubt (writes-in-doubt.ts) and its event is
 * published once a read shows it, in this call or a later one.
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus, PriceSource, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { exitCorrelationId } from "../domain/exit-correlation-id.js";
import { type FillLot, settleRefusedAttempt, withAttemptTraded } from "../domain/exit-fill.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitTrigger } from "../domain/exit-plan.js";
import type { ExitCommand } from "./exit-command.js";
import { type ExitOutcome, type ExitOutcomeDetails, exitOutcome } from "./exit-outcome.js";
import { answerFromStored } from "./stored-truth.js";
import type { Clock, ExitEventSink, ExitLog, LockLease, LtpQuote, TrackerStore } from "./ports.js";
import type { RouterOutcome } from "./router-reply.js";
import type { DoubtedEvent, HeldWriteOutcome, WritesInDoubt } from "./writes-in-doubt.js";

export type IntentResult =
  | { readonly kind: "stored"; readonly tracker: TrackerRecord }
  /** The tracker was written since it was read: `current` is what is stored now; nothing was sent. */
  | { readonly kind: "stale"; readonly current: TrackerRecord; readonly outcome: ExitOutcome }
  | { readonly kind: "refused"; readonly outcome: ExitOutcome };

export interface ExitRecorderSettings {
  readonly trackerUpdateRetries: number;
  readonly trackerUpdateBackoffMs: number;
}

type Accepted = Extract<RouterOutcome, { kind: "accepted" }>;
/** An accepted outcome whose fill covers the whole open quantity. */
export type Filled = Accepted & { readonly fill: NonNullable<Accepted["fill"]> };

export interface RevertResult {
  /** False when the revert was not written: `tracker` is then what is stored (or the intent, on a store failure). */
  readonly written: boolean;
  readonly tracker: TrackerRecord;
}

export class ExitRecorder {
  constructor(
    private readonly store: TrackerStore,
    private readonly clock: Clock,
    private readonly events: ExitEventSink,
    private readonly log: ExitLog,
    private readonly settings: ExitRecorderSettings,
    private readonly inDoubt: WritesInDoubt,
  ) {}

  /**
   * ACTIVE → EXITING with the next attempt's correlation id, its send deadline
   * (epoch ms) and reference price, stored before any order is sent.
   */
  async persistIntent(
    tracker: TrackerRecord,
    command: ExitCommand,
    lease: LockLease,
    quote: LtpQuote,
    sendDeadlineMs: number,
  ): Promise<IntentResult> {
    const now = this.clock.now();
    const attempt = tracker.exitAttempt + 1;
    const { referencePrice: _previous, trigger: _previousTrigger, ...rest } = tracker;
    const next: TrackerRecord = {
      ...rest,
      // The rule that started this attempt, if one did; a manual exit records none.
      ...(command.trigger ? { trigger: command.trigger } : {}),
      ...(quote.price ? { referencePrice: quote.price } : {}),
      exitSendDeadline: sendDeadlineMs,
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
    const written = await this.writeOrHold(next, tracker.version, { kind: ExitEventKind.INTENT, message: command.reason });
    switch (written.kind) {
      case "written":
        // Announced only now: a trigger that lost to a manual exit, or to a changed plan, announces nothing.
        if (command.trigger) this.emitTriggered(written.tracker, command.trigger, command.reason);
        this.emit(ExitEventKind.INTENT, written.tracker, command.reason);
        return { kind: "stored", tracker: written.tracker };
      case "not-found":
        return { kind: "refused", outcome: exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${tracker.orderNo}` }) };
      default: {
        const outcome = exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
          tracker: written.current,
          message: `tracker changed while the exit was starting (${written.kind}); nothing was sent`,
        });
        return written.kind === "version-mismatch" ? { kind: "stale", current: written.current, outcome } : { kind: "refused", outcome };
      }
    }
  }

  /**
   * EXITING → EXITED once the broker reported fills for the whole open
   * quantity (`accepted.fill`), at their average price, retried with backoff.
   * A failed write is followed by a reload: our own EXITED whose reply was
   * lost is published then and answered EXITED, EXITED by someone else (an
   * order update) is success, a tracker moved on is answered as it is stored.
   * Otherwise PENDING_RECONCILE: the intent stays for the reconciler (and a
   * write in doubt stays held, for a later read to settle).
   */
  async markExited(intent: TrackerRecord, accepted: Filled, quote: LtpQuote, lease: LockLease, attempts: number): Promise<ExitOutcome> {
    const fill = accepted.fill;
    const priced = {
      attempts,
      exitPrice: fill.price,
      ...(quote.price ? { referencePrice: quote.price } : intent.referencePrice ? { referencePrice: intent.referencePrice } : {}),
      priceSource: PriceSource.FILL,
      priceAgeMs: quote.ageMs,
      priceStale: quote.stale,
      exitOrderId: accepted.orderId || intent.exitOrderId,
    };
    this.emit(ExitEventKind.ROUTER_ACCEPTED, intent, `order ${accepted.orderId || "(no id)"} accepted`);
    let current = intent;
    let lastProblem = "";
    for (let retry = 0; retry <= this.settings.trackerUpdateRetries; retry++) {
      if (retry > 0) {
        await this.clock.sleep(this.settings.trackerUpdateBackoffMs * 2 ** (retry - 1));
        const reloaded = await this.store.get(intent.orderNo).then(
          (tracker) => ({ tracker }),
          () => undefined,
        );
        if (reloaded?.tracker) current = reloaded.tracker;
        // Our own EXITED whose reply was lost: published now, and answered as ours.
        const ours = reloaded && this.inDoubt.settleWith(intent.orderNo, reloaded.tracker);
        if (ours?.status === TrackerStatus.EXITED) return this.exited(current, priced);
      }
      const stored = answerFromStored(current, intent, priced);
      if (stored) return stored;
      const now = this.clock.now();
      const next: TrackerRecord = {
        ...current,
        ...withAttemptTraded(current, fill),
        status: TrackerStatus.EXITED,
        exitOrderId: priced.exitOrderId,
        exitedAt: now,
        // Our own token: if a newer holder wrote since, the store must refuse us.
        fencingToken: lease.fencingToken,
        updatedAt: now,
      };
      try {
        const written = await this.writeOrHold(next, current.version, {
          kind: ExitEventKind.EXITED,
          status: ExitStatus.EXITED,
          message: intent.exitReason,
        });
        if (written.kind === "written") {
          this.emit(ExitEventKind.EXITED, written.tracker, intent.exitReason, ExitStatus.EXITED);
          return this.exited(written.tracker, priced);
        }
        lastProblem = `order filled but the tracker write was refused (${written.kind})`;
        if (written.kind === "not-found") break;
        current = written.current;
        if (written.lostWrite?.status === TrackerStatus.EXITED) return this.exited(current, priced);
        if (written.kind === "fenced")
          return answerFromStored(current, intent, priced) ?? this.pendingReconcile(intent, current, lastProblem, priced);
      } catch (error) {
        lastProblem = `order filled but the tracker update failed (${error instanceof Error ? error.message : String(error)})`;
        this.log.warn({ orderNo: intent.orderNo, retry, err: error }, "tracker update after an accepted exit failed");
      }
    }
    return this.pendingReconcile(intent, current, lastProblem, priced);
  }

  private exited(tracker: TrackerRecord, priced: ExitOutcomeDetails): ExitOutcome {
    return exitOutcome(ExitStatus.EXITED, { ...priced, tracker, exitPrice: tracker.exitPrice, message: "exited" });
  }

  /** The compare-and-set of `next`, held in doubt with `event` if it throws (writes-in-doubt.ts). */
  private writeOrHold(next: TrackerRecord, expectedVersion: number, event: DoubtedEvent): Promise<HeldWriteOutcome> {
    return this.inDoubt.compareAndSet(this.store, next, expectedVersion, event);
  }

  /** The broker's final answer is known but the tracker could not record it: the intent stays for the reconciler. */
  pendingReconcile(intent: TrackerRecord, current: TrackerRecord, problem: string, priced: ExitOutcomeDetails): ExitOutcome {
    this.log.error(
      { orderNo: intent.orderNo, correlationId: intent.exitCorrelationId, problem },
      "exit order filled but tracker not updated",
    );
    this.emit(ExitEventKind.PENDING_RECONCILE, current, problem, ExitStatus.PENDING_RECONCILE);
    return exitOutcome(ExitStatus.PENDING_RECONCILE, {
      ...priced,
      tracker: current,
      correlationId: intent.exitCorrelationId,
      message: `${problem}; the intent is kept for reconciliation`,
    });
  }

  /** Records the broker's order id on a still-EXITING intent whose order is live; never throws (the id is also learnt from look-ups). */
  async recordOrderId(intent: TrackerRecord, orderId: string): Promise<TrackerRecord> {
    if (!orderId || intent.exitOrderId === orderId || intent.status !== TrackerStatus.EXITING) return intent;
    try {
      const written = await this.store.compareAndSet({ ...intent, exitOrderId: orderId, updatedAt: this.clock.now() }, intent.version);
      if (written.kind === "written") return written.tracker;
      return written.kind === "not-found" ? intent : written.current;
    } catch (error) {
      this.log.warn({ orderNo: intent.orderNo, err: error }, "could not record the exit order id; a later look-up records it");
      return intent;
    }
  }

  /**
   * EXITING → ACTIVE after a definite refusal. What the refused order traded
   * (`traded`, a partial fill) is kept as exited, so the next attempt exits
   * only the residual. On failure the tracker stays EXITING for the
   * reconciler; never throws.
   */
  async revertToActive(intent: TrackerRecord, lease: LockLease, why: string, traded?: FillLot): Promise<RevertResult> {
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
      const written = await this.writeOrHold(next, intent.version, { kind: ExitEventKind.REVERTED, message: why });
      if (written.kind === "written") {
        this.emit(ExitEventKind.REVERTED, written.tracker, why);
        return { written: true, tracker: written.tracker };
      }
      this.log.warn({ orderNo: intent.orderNo, result: written.kind }, "revert of a refused exit was not written");
      return { written: false, tracker: written.kind === "not-found" ? intent : written.current };
    } catch (error) {
      this.log.error({ orderNo: intent.orderNo, err: error }, "revert of a refused exit failed; the reconciler will retry it");
      return { written: false, tracker: intent };
    }
  }

  private emitTriggered(tracker: TrackerRecord, trigger: ExitTrigger, message: string): void {
    this.events.publish({
      kind: ExitEventKind.TRIGGERED,
      tracker,
      correlationId: tracker.exitCorrelationId,
      timeMs: this.clock.now(),
      message,
      trigger,
    });
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
