/**
 * Step 7: what the router's answer (or a look-up of the order) does to the
 * tracker. EXITED only when the broker reports fills for the whole open
 * quantity; an accepted order that has not filled yet is waited for
 * (bounded), then answered EXITED, ROUTER_REJECTED (ACTIVE, what traded kept)
 * or AWAITING_FILL (still EXITING with the order id; never re-sent). A write
 * that finds the tracker moved on answers what is stored.
 */
import { BrokerOrderStatus, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { attemptOrderQuantity, attemptTradedQuantity } from "../domain/exit-fill.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { type ExitOutcome, type ExitOutcomeDetails, exitOutcome } from "./exit-outcome.js";
import type { ExitRecorder, Filled } from "./exit-recorder.js";
import type { FillWaiter } from "./fill-waiter.js";
import type { LockLease, LtpQuote, TrackerStore } from "./ports.js";
import type { LookupResult, RouteResult } from "./router-gateway.js";
import { answerFromStored } from "./stored-truth.js";

export class ExitSettlement {
  constructor(
    private readonly recorder: ExitRecorder,
    private readonly waiter: FillWaiter,
    private readonly store: Pick<TrackerStore, "get">,
  ) {}

  /** The router's answer for `intent`'s order applied to the tracker; a live order is waited for until `untilMs` (epoch ms). */
  async afterRouting(intent: TrackerRecord, routed: RouteResult, quote: LtpQuote, lease: LockLease, untilMs: number): Promise<ExitOutcome> {
    const { outcome, attempts } = routed;
    const priced = pricedBy(quote, intent, attempts);
    switch (outcome.kind) {
      case "accepted":
        if (outcome.fill && outcome.fill.quantity.greaterThanOrEqualTo(attemptOrderQuantity(intent))) {
          return this.recorder.markExited(intent, outcome as Filled, quote, lease, attempts);
        }
        this.recorder.emit(ExitEventKind.ROUTER_ACCEPTED, intent, `order ${outcome.orderId || "(no id)"} accepted; waiting for its fill`);
        return this.awaitFill(intent, outcome.orderId, priced, untilMs);
      case "rejected":
      case "not-placed": {
        const status = outcome.kind === "rejected" ? ExitStatus.ROUTER_REJECTED : ExitStatus.ROUTER_UNAVAILABLE;
        this.recorder.emit(ExitEventKind.ROUTER_REJECTED, intent, outcome.message, status);
        const traded = outcome.kind === "rejected" ? outcome.traded : undefined;
        const reverted = await this.recorder.revertToActive(intent, lease, outcome.message, traded);
        const moved = reverted.written ? undefined : answerFromStored(reverted.tracker, intent, priced);
        return (
          moved ??
          exitOutcome(status, { ...priced, tracker: reverted.tracker, correlationId: intent.exitCorrelationId, message: outcome.message })
        );
      }
      case "unknown": {
        this.recorder.emit(ExitEventKind.ROUTER_UNKNOWN, intent, outcome.message, ExitStatus.OUTCOME_UNKNOWN);
        // Another process may have settled this tracker while the call hung: answer that, never a guess.
        const stored = await this.store.get(intent.orderNo).catch(() => intent);
        return (
          answerFromStored(stored, intent, priced) ??
          exitOutcome(ExitStatus.OUTCOME_UNKNOWN, {
            ...priced,
            tracker: stored ?? intent,
            message: `${outcome.message}; the intent stays EXITING and is resolved by correlation id`,
          })
        );
      }
    }
  }

  /** A look-up found the intent's order: its state applied (the order update path), waited for until `untilMs` while live. */
  afterLookup(
    intent: TrackerRecord,
    found: Extract<LookupResult, { kind: "found" }>,
    quote: LtpQuote,
    untilMs: number,
  ): Promise<ExitOutcome> {
    return this.awaitFill(intent, found.order.orderId, pricedBy(quote, intent, 0), untilMs, found);
  }

  private async awaitFill(
    intent: TrackerRecord,
    orderId: string,
    priced: ExitOutcomeDetails,
    untilMs: number,
    first?: LookupResult,
  ): Promise<ExitOutcome> {
    const wait = await this.waiter.waitForFill(intent, untilMs, first);
    if (!wait.live)
      return (
        answerFromStored(wait.tracker, intent, priced) ?? exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { ...priced, tracker: wait.tracker })
      );
    if (wait.unrecorded) {
      const final = wait.order ? BrokerOrderStatus[wait.order.status] : "final";
      return this.recorder.pendingReconcile(
        intent,
        wait.tracker,
        `the broker reports the order ${final} but the tracker update failed`,
        priced,
      );
    }
    const tracker = await this.recorder.recordOrderId(wait.tracker, orderId || wait.order?.orderId || "");
    const traded = attemptTradedQuantity(tracker);
    const known = wait.order ? "" : `; the last look-up ${wait.lookupFailed ? `failed (${wait.lookupFailed})` : "did not find it yet"}`;
    return exitOutcome(ExitStatus.AWAITING_FILL, {
      ...priced,
      tracker,
      message:
        `order ${tracker.exitOrderId || orderId || "(no id)"} accepted, ${traded.toFixed()} of ${attemptOrderQuantity(tracker).toFixed()} filled so far${known}; ` +
        "the tracker stays EXITING and is settled by the next order update or the reconciler; never re-send",
    });
  }
}

/** The price fields of an answer that is not (yet) a fill: the reference LTP and where it came from. */
function pricedBy(quote: LtpQuote, intent: TrackerRecord, attempts: number): ExitOutcomeDetails {
  const referencePrice = quote.price ?? intent.referencePrice;
  return {
    attempts,
    priceSource: quote.source,
    priceAgeMs: quote.ageMs,
    priceStale: quote.stale,
    ...(referencePrice ? { referencePrice } : {}),
  };
}
