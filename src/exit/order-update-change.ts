/**
 * What one broker order update does to the tracker whose current exit
 * attempt it belongs to: a pure function, so that every order of arrival and
 * every duplicate can be reasoned about (and tested) without I/O.
 *
 * Guarantees, for the updates of one order (each carrying the order's
 * cumulative traded quantity):
 * - Applying an update twice changes nothing the second time.
 * - An update older than what the tracker records (PART_TRADED after TRADED,
 *   or a smaller traded quantity) changes nothing.
 * - So any arrival order of the same updates ends in the same tracker
 *   (version and updatedAt aside).
 * - A quantity that would exit more than the position holds is refused and
 *   reported, never written; so is TRADED for an attempt already settled as
 *   refused (ACTIVE): a contradiction that must not pass unseen.
 *
 * Rules: working (TRANSIT, PENDING, PART_TRADED) records a partial fill on an
 * EXITING tracker, whatever it recorded before, as long as it is more;
 * TRADED (or working with the whole quantity traded) makes it EXITED at the
 * average fill price (or corrects the price of one already EXITED);
 * REJECTED, CANCELLED, EXPIRED send an EXITING tracker back to ACTIVE with
 * what traded kept as exited, the residual open. EXITED is final: a refusal
 * reported for it contradicts its fill and is refused, not written.
 */
import { BrokerOrderStatus, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import {
  attemptOrderQuantity,
  attemptTradedQuantity,
  type FillLot,
  overfills,
  settledAfterRefusal,
  withAttemptTraded,
} from "../domain/exit-fill.js";
import { type Money, ZERO } from "../domain/money.js";
import { excerpt } from "../domain/text-excerpt.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { BrokerOrder } from "./ports.js";

export interface OrderUpdate {
  readonly correlationId: string;
  readonly orderId: string;
  readonly status: BrokerOrderStatus;
  /** Cumulative traded quantity of the order. */
  readonly tradedQuantity?: Money;
  readonly averagePrice?: Money;
  readonly updateTimeMs: number;
}

/** The broker's state of an order (a look-up's answer, a paper fill), as an order update at `nowMs`. */
export function updateFromBrokerOrder(order: BrokerOrder, nowMs: number): OrderUpdate {
  return {
    correlationId: order.correlationId,
    orderId: order.orderId,
    status: order.status,
    tradedQuantity: order.tradedQuantity,
    ...(order.averagePrice ? { averagePrice: order.averagePrice } : {}),
    updateTimeMs: nowMs,
  };
}

export type OrderUpdateChange =
  | { readonly kind: "none"; readonly why: string }
  /** The update contradicts the tracker (it would overfill): reported, not written. */
  | { readonly kind: "refused"; readonly why: string }
  | {
      readonly kind: "write";
      readonly next: TrackerRecord;
      readonly event: ExitEventKind;
      readonly status?: ExitStatus;
      readonly message: string;
    };

const DEAD = new Set([BrokerOrderStatus.REJECTED, BrokerOrderStatus.CANCELLED, BrokerOrderStatus.EXPIRED]);

/** The change `update` makes to `tracker`, whose current attempt has the update's correlation id. */
export function orderUpdateChange(tracker: TrackerRecord, update: OrderUpdate, nowMs: number): OrderUpdateChange {
  const statusName = BrokerOrderStatus[update.status];
  if (tracker.status === TrackerStatus.ACTIVE) {
    // The broker says this attempt traded in full, yet it was settled as refused: the position may be
    // exited already, and a retry of the "open" quantity would exit it twice. Reported, not ignored.
    if (update.status === BrokerOrderStatus.TRADED) {
      return {
        kind: "refused",
        why: `TRADED contradicts the refusal recorded for this exit attempt; ${tracker.quantity.minus(tracker.exitedQuantity).toFixed()} is recorded open and may already be exited`,
      };
    }
    return { kind: "none", why: `${statusName} ignored: this exit attempt was already settled as refused` };
  }
  if (tracker.status !== TrackerStatus.EXITING && tracker.status !== TrackerStatus.EXITED) {
    return { kind: "none", why: `${statusName} ignored: tracker is ${TrackerStatus[tracker.status]}` };
  }
  const orderQuantity = attemptOrderQuantity(tracker);
  // TRADED is the whole attempt only when it says nothing of its quantity or says all of it: an order for
  // less (a slice of the attempt, or a broker's report that disagrees) is progress, never EXITED.
  const tradedInFull = !update.tradedQuantity || update.tradedQuantity.greaterThanOrEqualTo(orderQuantity);
  if (update.status === BrokerOrderStatus.TRADED && tradedInFull) return traded(tracker, update, nowMs);
  if (DEAD.has(update.status)) {
    if (tracker.status === TrackerStatus.EXITED && !(update.tradedQuantity?.greaterThanOrEqualTo(orderQuantity) ?? false)) {
      // EXITED is written only on a full fill: a refusal of part of it now contradicts the broker's own report.
      return {
        kind: "refused",
        why: `${statusName} after ${formatQuantity(update.tradedQuantity)} traded contradicts the fill of ${orderQuantity.toFixed()} recorded for this exit`,
      };
    }
    const recorded = tracker.status === TrackerStatus.EXITING ? attemptTradedQuantity(tracker) : undefined;
    const final = maxOf(update.tradedQuantity, recorded);
    const lot = lotOf(final, update.averagePrice);
    if (overfills(tracker, lot)) return overfill(tracker, lot);
    if (final.greaterThanOrEqualTo(orderQuantity)) return traded(tracker, update, nowMs);
    return refused(tracker, update, lot, nowMs);
  }
  const reported = update.tradedQuantity;
  if (!reported || reported.isZero()) return { kind: "none", why: `${statusName} noted; nothing traded yet` };
  const lot = lotOf(reported, update.averagePrice);
  if (overfills(tracker, lot)) return overfill(tracker, lot);
  if (reported.greaterThanOrEqualTo(orderQuantity)) return traded(tracker, update, nowMs);
  if (tracker.status === TrackerStatus.EXITED) {
    return {
      kind: "none",
      why: `${statusName} noted: ${reported.toFixed()} of ${orderQuantity.toFixed()} traded, the exit is already recorded`,
    };
  }
  if (!reported.greaterThan(attemptTradedQuantity(tracker))) {
    return { kind: "none", why: `${statusName} ignored: the tracker already records ${attemptTradedQuantity(tracker).toFixed()} traded` };
  }
  return {
    kind: "write",
    next: { ...tracker, ...withAttemptTraded(tracker, lot), exitOrderId: update.orderId || tracker.exitOrderId, updatedAt: nowMs },
    event: ExitEventKind.FILL,
    message: `order ${excerpt(update.orderId, 64)} ${statusName}: ${reported.toFixed()} of ${orderQuantity.toFixed()} traded`,
  };
}

/** The whole attempt traded: EXITED, or an EXITED tracker's numbers corrected to the broker's. */
function traded(tracker: TrackerRecord, update: OrderUpdate, nowMs: number): OrderUpdateChange {
  const lot = lotOf(attemptOrderQuantity(tracker), update.averagePrice);
  const fill = withAttemptTraded(tracker, lot);
  const exitOrderId = update.orderId || tracker.exitOrderId;
  const wasExited = tracker.status === TrackerStatus.EXITED;
  if (
    wasExited &&
    tracker.exitedQuantity.equals(fill.exitedQuantity) &&
    samePrice(tracker.exitPrice, fill.exitPrice) &&
    tracker.exitOrderId === exitOrderId
  ) {
    return { kind: "none", why: "duplicate: the tracker already records this fill" };
  }
  return {
    kind: "write",
    next: {
      ...tracker,
      ...fill,
      status: TrackerStatus.EXITED,
      exitOrderId,
      exitedAt: tracker.exitedAt ?? update.updateTimeMs,
      updatedAt: nowMs,
    },
    event: wasExited ? ExitEventKind.FILL : ExitEventKind.EXITED,
    status: ExitStatus.EXITED,
    message: `order ${excerpt(update.orderId, 64)} traded${fill.exitPrice ? ` at ${fill.exitPrice.toFixed()}` : ""}`,
  };
}

/** The rest of the attempt was refused: back to ACTIVE, what traded kept as exited. */
function refused(tracker: TrackerRecord, update: OrderUpdate, lot: FillLot, nowMs: number): OrderUpdateChange {
  const settled = settledAfterRefusal(tracker, lot);
  const open = tracker.quantity.minus(settled.exitedQuantity);
  return {
    kind: "write",
    next: {
      ...tracker,
      ...settled,
      status: TrackerStatus.ACTIVE,
      exitOrderId: update.orderId || tracker.exitOrderId,
      exitedAt: undefined,
      updatedAt: nowMs,
    },
    event: ExitEventKind.REVERTED,
    status: ExitStatus.ROUTER_REJECTED,
    message: `order ${excerpt(update.orderId, 64)} ${BrokerOrderStatus[update.status]} after ${lot.quantity.toFixed()} traded; ${open.toFixed()} open again`,
  };
}

function overfill(tracker: TrackerRecord, lot: FillLot): OrderUpdateChange {
  return {
    kind: "refused",
    why: `traded quantity ${lot.quantity.toFixed()} would exit more than the ${tracker.quantity.minus(tracker.priorExitedQuantity).toFixed()} this attempt was for`,
  };
}

function formatQuantity(quantity: Money | undefined): string {
  return quantity ? quantity.toFixed() : "0";
}

function lotOf(quantity: Money, price: Money | undefined): FillLot {
  return price ? { quantity, price } : { quantity };
}

function maxOf(a: Money | undefined, b: Money | undefined): Money {
  if (!a) return b ?? ZERO;
  if (!b) return a;
  return a.greaterThan(b) ? a : b;
}

function samePrice(a: Money | undefined, b: Money | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}
