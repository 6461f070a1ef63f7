/**
 * Tracker and exit outcome between the domain (decimals, epoch ms) and the
 * wire (decimal strings, Timestamps). Outbound only: inbound requests are
 * parsed in request-parsing.ts.
 *
 * Messages are written as literals typed as the messages (the compiler holds
 * them to every field) rather than with create(), which walks the schema on
 * every call: every ExecuteExit answers with both.
 */
import { type ExitResult, ProductType, type Tracker } from "../../../gen/tradingcore/v1/common_pb.js";
import { formatDecimal, ZERO } from "../../domain/money.js";
import type { TrackerRecord } from "../../domain/tracker.js";
import type { ExitOutcome } from "../../exit/exit-outcome.js";
import { durationOf, timestampOf } from "./time-wire.js";
import type { ProtectionState } from "../../domain/exit-plan.js";
import { exitPlanToWire, protectionToWire, triggerToWire } from "./exit-plan-wire.js";

/** The tracker on the wire; `protection` is its plan's state, when the caller read it. */
export function trackerToWire(tracker: TrackerRecord, protection?: ProtectionState): Tracker {
  return {
    $typeName: "tradingcore.v1.Tracker",
    orderNo: tracker.orderNo,
    segment: tracker.segment,
    securityId: tracker.securityId,
    symbol: tracker.symbol,
    side: tracker.side,
    quantity: formatDecimal(tracker.quantity),
    entryPrice: formatDecimal(tracker.entryPrice),
    status: tracker.status,
    exitPrice: formatDecimal(tracker.exitPrice),
    exitReason: tracker.exitReason,
    exitReasonCode: tracker.exitReasonCode,
    exitCorrelationId: tracker.exitCorrelationId,
    exitOrderId: tracker.exitOrderId,
    exitedQuantity: formatDecimal(tracker.exitedQuantity),
    exitRequestedAt: timestampOf(tracker.exitRequestedAt),
    exitedAt: timestampOf(tracker.exitedAt),
    paper: tracker.paper,
    version: BigInt(tracker.version),
    meta: { ...tracker.meta },
    exitAttempt: tracker.exitAttempt,
    fencingToken: BigInt(tracker.fencingToken),
    createdAt: timestampOf(tracker.createdAt),
    updatedAt: timestampOf(tracker.updatedAt),
    referencePrice: formatDecimal(tracker.referencePrice),
    exitSendDeadline: timestampOf(tracker.exitSendDeadline),
    overExitedQuantity: formatDecimal(tracker.overExitedQuantity ?? ZERO),
    productType: tracker.productType ?? ProductType.UNSPECIFIED,
    sessionId: tracker.sessionId ?? "",
    exitPlan: tracker.exitPlan && exitPlanToWire(tracker.exitPlan),
    protection: protection && protectionToWire(protection),
    trigger: tracker.trigger && triggerToWire(tracker.trigger),
  };
}

export function exitOutcomeToWire(outcome: ExitOutcome): ExitResult {
  return {
    $typeName: "tradingcore.v1.ExitResult",
    status: outcome.status,
    success: outcome.success,
    tracker: outcome.tracker ? trackerToWire(outcome.tracker) : undefined,
    exitPrice: formatDecimal(outcome.exitPrice),
    priceSource: outcome.priceSource,
    priceAge: outcome.priceAgeMs === undefined ? undefined : durationOf(outcome.priceAgeMs),
    priceStale: outcome.priceStale,
    correlationId: outcome.correlationId,
    exitOrderId: outcome.exitOrderId,
    message: outcome.message,
    attempts: outcome.attempts,
    referencePrice: formatDecimal(outcome.referencePrice),
  };
}
