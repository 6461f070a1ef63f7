/**
 * Step 3's EXITING branch: an intent is resolved by looking its order up by
 * correlation id, never by sending a second order for the same attempt.
 *
 * - Found: its state goes through the order update path and, while it is
 *   live, is waited for (bounded), as after a router call.
 * - Unknown to the broker: "never placed" only once no process can still
 *   write it (its send deadline plus `sendDeadlineMarginMs` has passed on
 *   this clock) and `unknownOrderGraceMs` after the intent; then the intent
 *   is reverted, the superseded attempt is watched for a late duplicate, and
 *   the next attempt is placed (`replace`).
 * - The look-up failed: EXIT_IN_PROGRESS, nothing written.
 */
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { attemptOrderQuantity } from "../domain/exit-fill.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import type { ExitRecorder } from "./exit-recorder.js";
import type { ExitSettlement } from "./exit-settlement.js";
import { EXIT_SPANS, type TraceParent, inSpan } from "./exit-tracing.js";
import type { Clock, ExitLog, LockLease, LtpQuote, SupersededAttempts } from "./ports.js";
import type { RouterGateway } from "./router-gateway.js";

export interface IntentResumerDeps {
  readonly gateway: RouterGateway;
  readonly settlement: ExitSettlement;
  readonly recorder: ExitRecorder;
  readonly clock: Clock;
  readonly log: ExitLog;
  readonly superseded?: SupersededAttempts;
  readonly settings: { readonly unknownOrderGraceMs: number; readonly sendDeadlineMarginMs: number; readonly duplicateWatchMs: number };
  readonly lookUpLtp: (tracker: TrackerRecord) => Promise<LtpQuote>;
}

export class IntentResumer {
  constructor(private readonly deps: IntentResumerDeps) {}

  /** Resolves `tracker`'s intent; a live order is waited for until `answerByMs`; `replace` places the next attempt. */
  async resume(
    tracker: TrackerRecord,
    lease: LockLease,
    parent: TraceParent,
    answerByMs: number,
    replace: (reverted: TrackerRecord) => Promise<ExitOutcome>,
  ): Promise<ExitOutcome> {
    const correlationId = tracker.exitCorrelationId;
    const found = await inSpan(parent, EXIT_SPANS.routerLookup, () =>
      this.deps.gateway.find(correlationId, attemptOrderQuantity(tracker), this.neverPlacedIn(tracker) === 0),
    );
    if (found.kind === "lookup-failed") {
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { tracker, message: `intent ${correlationId} is unresolved: ${found.message}` });
    }
    if (found.kind === "found") {
      const quote = await this.deps.lookUpLtp(tracker);
      return inSpan(parent, EXIT_SPANS.trackerUpdate, () => this.deps.settlement.afterLookup(tracker, found, quote, answerByMs));
    }
    const wait = this.neverPlacedIn(tracker);
    if (wait > 0) {
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
        tracker,
        message: `intent ${correlationId} is being resolved: the broker does not know the order yet (never placed is concluded in ${wait} ms)`,
      });
    }
    const reverted = await this.deps.recorder.revertToActive(tracker, lease, `the broker never received order ${correlationId}`);
    if (!reverted.written || reverted.tracker.status !== TrackerStatus.ACTIVE) {
      this.deps.log.warn({ orderNo: tracker.orderNo }, "a never-placed intent could not be reverted");
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
        tracker: reverted.tracker,
        message: "the tracker changed while a never-placed intent was being reverted",
      });
    }
    await this.watchSuperseded(tracker);
    return replace(reverted.tracker);
  }

  /**
   * Ms until an intent whose order the broker does not know may be taken as
   * never placed: past its send deadline plus the margin (no process may
   * still write it), and past the unknown-order grace after the intent.
   */
  private neverPlacedIn(tracker: TrackerRecord): number {
    const now = this.deps.clock.now();
    const afterGrace = (tracker.exitRequestedAt ?? 0) + this.deps.settings.unknownOrderGraceMs;
    const afterDeadline =
      tracker.exitSendDeadline === undefined ? afterGrace : tracker.exitSendDeadline + this.deps.settings.sendDeadlineMarginMs;
    return Math.max(0, Math.max(afterGrace, afterDeadline) - now);
  }

  /** The superseded attempt is looked up for a while: an order found for it is a duplicate. */
  private async watchSuperseded(tracker: TrackerRecord): Promise<void> {
    const untilMs = this.deps.clock.now() + this.deps.settings.duplicateWatchMs;
    await this.deps.superseded
      ?.watch({ orderNo: tracker.orderNo, correlationId: tracker.exitCorrelationId, untilMs, recordedTraded: "0" })
      .catch((error: unknown) =>
        this.deps.log.error(
          { orderNo: tracker.orderNo, correlationId: tracker.exitCorrelationId, err: error },
          "could not record a superseded exit attempt for the duplicate check",
        ),
      );
  }
}
