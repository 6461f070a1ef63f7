/**
 * The exit's answers that a failover must not take back, held until the
 * store's replicas have the writes behind them (WriteConfirmation, Redis
 * WAIT). Nothing changes when no confirmation is configured.
 *
 * Invariants:
 * - An order is sent only under an intent the replicas confirmed; an
 *   unconfirmed intent answers EXIT_IN_PROGRESS, stays EXITING and is
 *   resolved by the reconciler like any intent whose order never left.
 * - EXITED and ALREADY_EXITED are answered only once the EXITED write is
 *   confirmed (whichever process or path wrote it: the confirmation covers
 *   every write acknowledged before it); otherwise PENDING_RECONCILE, with
 *   the fill's details kept. A failover that loses the EXITED write leaves
 *   the confirmed intent, which the reconciler resolves from the broker's
 *   fill: never a second order.
 */
import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import type { ExitLog, WriteConfirmation } from "./ports.js";

export class ReplicaConfirmedAnswers {
  constructor(
    private readonly confirmation: WriteConfirmation | undefined,
    private readonly log: ExitLog,
  ) {}

  /** Undefined once the stored intent is confirmed (its order may be sent); else the answer to give instead. */
  async intentUnconfirmed(intent: TrackerRecord): Promise<ExitOutcome | undefined> {
    if (!this.confirmation) return undefined;
    const durable = await this.confirmation.confirm();
    if (durable.confirmed) return undefined;
    this.log.warn(
      { orderNo: intent.orderNo, correlationId: intent.exitCorrelationId, why: durable.message },
      "exit intent not confirmed by the store's replicas; nothing sent",
    );
    return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
      tracker: intent,
      message: `the exit intent is not confirmed by the store's replicas (${durable.message}); nothing was sent, the reconciler resolves the intent`,
    });
  }

  /** `outcome`, or PENDING_RECONCILE when it is a success whose EXITED write the replicas have not confirmed. */
  async confirmedSuccess(outcome: ExitOutcome): Promise<ExitOutcome> {
    if (!this.confirmation) return outcome;
    if (outcome.status !== ExitStatus.EXITED && outcome.status !== ExitStatus.ALREADY_EXITED) return outcome;
    const durable = await this.confirmation.confirm();
    if (durable.confirmed) return outcome;
    this.log.warn(
      { orderNo: outcome.tracker?.orderNo, why: durable.message },
      "exit filled but its EXITED record is not confirmed by replicas",
    );
    return exitOutcome(ExitStatus.PENDING_RECONCILE, {
      ...outcome,
      message:
        `the order is filled and the tracker EXITED on the primary, but ${durable.message}; ` +
        "if a failover loses the record, the reconciler resolves the intent from the fill",
    });
  }
}
