/**
 * The tracked position as the engine and stores see it: decimals for money,
 * epoch milliseconds for time, the contract's enums for closed vocabularies.
 *
 * Invariants every store keeps:
 * - `version` grows by one with every accepted write; a write names the version it read.
 * - `fencingToken` never decreases; a write carrying an older token is refused.
 * - `status` changes only along an edge of the transition table (tracker-transitions.ts).
 * - `exitedQuantity` never exceeds `quantity`; what duplicates traded beyond
 *   it is `overExitedQuantity`.
 * - EXITED means the broker reported fills for the whole quantity:
 *   `exitedQuantity` = `quantity`, `exitPrice` their average.
 * - `priorExitedQuantity` ≤ `exitedQuantity`: what earlier, finished exit
 *   attempts traded. While ACTIVE the two are equal; while EXITING or EXITED
 *   the difference is what the current attempt has traded (see exit-fill.ts).
 */
import type { ExitReasonCode, ProductType, Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { type ExitPlan, type ExitTrigger, sameRules } from "./exit-plan.js";
import type { Money } from "./money.js";

/** The fields a caller supplies to start tracking a position. */
export interface TrackerSpec {
  readonly orderNo: string;
  readonly segment: Segment;
  readonly securityId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: Money;
  readonly entryPrice: Money;
  readonly status: TrackerStatus.ACTIVE | TrackerStatus.PENDING;
  readonly paper: boolean;
  readonly meta: Readonly<Record<string, string>>;
  /**
   * How the position was entered; its exit orders go out with the same one.
   * Absent or UNSPECIFIED: the router's configured default.
   */
  readonly productType?: ProductType;
  /** The session (dead-man switch) it is registered under; absent when none. Never changes. */
  readonly sessionId?: string;
  /** Protective rules (version 1 at registration); none when absent. */
  readonly exitPlan?: ExitPlan | undefined;
}

/** A registered tracker: its spec plus everything the exit lifecycle records. */
export interface TrackerRecord extends Omit<TrackerSpec, "status"> {
  readonly status: TrackerStatus;
  readonly exitPrice?: Money | undefined;
  readonly exitReason: string;
  readonly exitReasonCode: ExitReasonCode;
  readonly exitCorrelationId: string;
  readonly exitOrderId: string;
  readonly exitedQuantity: Money;
  /**
   * Quantity traded by earlier exit attempts that ended refused after a
   * partial fill; ZERO until one does. Stores persist it like every field.
   */
  readonly priorExitedQuantity: Money;
  /** Average fill price of `priorExitedQuantity`, when known. */
  readonly priorExitPrice?: Money | undefined;
  /** Epoch ms at which the current exit intent was persisted. */
  readonly exitRequestedAt?: number;
  /**
   * Epoch ms after which no order of the current attempt is written to the
   * broker (the earlier of the lease's validity and the router timeout when
   * the intent was stored). "Never placed" waits for it plus a drift margin.
   */
  readonly exitSendDeadline?: number;
  /** The LTP the current attempt was sized and referenced at; never a fill price. */
  readonly referencePrice?: Money;
  /**
   * What exit orders traded beyond the position (a superseded attempt's order
   * found filled): ZERO or absent normally. Recorded, never compensated.
   */
  readonly overExitedQuantity?: Money;
  /** Epoch ms at which the tracker became EXITED. */
  readonly exitedAt?: number | undefined;
  /** Exit attempts so far; the current attempt's correlation id is derived from it. */
  readonly exitAttempt: number;
  /** The rule that started the current exit attempt, when a rule did. */
  readonly trigger?: ExitTrigger | undefined;
  readonly fencingToken: number;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Quantity still open: quantity − exitedQuantity. */
export function openQuantity(tracker: TrackerRecord): Money {
  return tracker.quantity.minus(tracker.exitedQuantity);
}

/** True when two registrations describe the same position (RegisterTracker idempotency). */
export function sameSpec(tracker: TrackerRecord, spec: TrackerSpec): boolean {
  const metaA = Object.entries(tracker.meta).sort();
  const metaB = Object.entries(spec.meta).sort();
  return (
    tracker.segment === spec.segment &&
    tracker.securityId === spec.securityId &&
    tracker.symbol === spec.symbol &&
    tracker.side === spec.side &&
    tracker.quantity.equals(spec.quantity) &&
    tracker.entryPrice.equals(spec.entryPrice) &&
    tracker.paper === spec.paper &&
    (tracker.productType ?? 0) === (spec.productType ?? 0) &&
    (tracker.sessionId ?? "") === (spec.sessionId ?? "") &&
    sameRules(tracker.exitPlan, spec.exitPlan) &&
    JSON.stringify(metaA) === JSON.stringify(metaB)
  );
}

export function isTerminal(status: TrackerStatus): boolean {
  return status === TrackerStatus.EXITED || status === TrackerStatus.CANCELLED;
}
