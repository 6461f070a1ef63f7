/**
 * The invariants every chaos scenario ends with, checked against the broker's
 * record (the shared paper book) and the final tracker state, never against
 * what tradingcore says about itself:
 *
 * 1. no duplicates: an EXITED tracker has exactly one filled exit order (with
 *    split fills allowed: fills that add up to its quantity, never more); an
 *    ACTIVE one has no fill beyond the exited quantity it records; nothing
 *    is filled twice under one correlation id;
 * 2. EXITED means filled: an EXITED tracker's fills add up to its quantity,
 *    and its exit price is their average price;
 * 3. nothing lost: every EXITED or ALREADY_EXITED a client was told is still
 *    EXITED;
 * 4. nothing stuck: no tracker is left EXITING once the reconcilers ran, and
 *    no order of a settled tracker is still live at the broker (it could
 *    still fill: a duplicate in the making);
 * 5. every answer agrees with the final state (the attempt it names, its
 *    price, a refusal that did not fill).
 */
import { TrackerStatus, type Tracker } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money, ZERO } from "../../../src/domain/money.js";
import { SETTLED_EXIT_STATUSES, type CallRecord } from "./client-plan.js";
import type { BookOrder, BookSnapshot } from "./paper-book-view.js";

export type ViolationKind =
  | "duplicate"
  | "exited-without-fill"
  | "active-with-fill"
  | "live-order"
  | "lost"
  | "stuck"
  | "inconsistent-answer"
  | "missing";

export interface Violation {
  readonly kind: ViolationKind;
  readonly orderNo: string;
  readonly detail: string;
}

export interface InvariantOptions {
  /** Partial fills are in play: several orders of one tracker may each fill part of it. */
  readonly splitFills?: boolean;
}

export interface InvariantInput {
  readonly orderNos: readonly string[];
  readonly trackers: ReadonlyMap<string, Tracker>;
  readonly book: BookSnapshot;
  readonly calls: readonly CallRecord[];
}

export interface InvariantFigures {
  readonly trackers: number;
  readonly finalStatuses: Record<string, number>;
  readonly ordersPlaced: number;
  /** Trackers by how many orders the book holds for them ("0", "1", "2", ...). */
  readonly ordersPerTracker: Record<string, number>;
  /** Trackers by how many of their orders filled (any quantity). */
  readonly filledOrdersPerTracker: Record<string, number>;
  readonly duplicates: number;
  readonly lost: number;
  readonly stuck: number;
}

export interface InvariantReport {
  readonly violations: readonly Violation[];
  readonly figures: InvariantFigures;
}

const LIVE_STATUSES = new Set(["TRANSIT", "PENDING", "PART_TRADED"]);
const ANSWERS_THAT_NEVER_HAPPEN = new Set(["NOT_ACTIVE", "TRACKER_NOT_FOUND", "INVALID_REQUEST", "UNSPECIFIED"]);

export function checkExitInvariants(input: InvariantInput, options: InvariantOptions = {}): InvariantReport {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, orderNo: string, detail: string) => violations.push({ kind, orderNo, detail });
  const finalStatuses: Record<string, number> = {};
  const ordersPerTracker: Record<string, number> = {};
  const filledOrdersPerTracker: Record<string, number> = {};
  for (const orderNo of input.orderNos) {
    const tracker = input.trackers.get(orderNo);
    const orders = input.book.ordersByTracker.get(orderNo) ?? [];
    const filled = orders.filter((order) => order.tradedQuantity.gt(ZERO));
    bump(ordersPerTracker, String(orders.length));
    bump(filledOrdersPerTracker, String(filled.length));
    if (!tracker) {
      add("missing", orderNo, "the tracker is gone from the store");
      continue;
    }
    bump(finalStatuses, TrackerStatus[tracker.status]);
    checkOrders(tracker, orders, input.book.acceptedByTracker.get(orderNo) ?? 0, options, add);
  }
  checkAnswers(input, add);
  const count = (kind: ViolationKind) => new Set(violations.filter((v) => v.kind === kind).map((v) => v.orderNo)).size;
  return {
    violations,
    figures: {
      trackers: input.orderNos.length,
      finalStatuses,
      ordersPlaced: input.orderNos.reduce((sum, orderNo) => sum + (input.book.ordersByTracker.get(orderNo)?.length ?? 0), 0),
      ordersPerTracker,
      filledOrdersPerTracker,
      duplicates: count("duplicate"),
      lost: count("lost"),
      stuck: count("stuck"),
    },
  };
}

type Add = (kind: ViolationKind, orderNo: string, detail: string) => void;

/** Invariants 1, 2 and 4 for one tracker against its orders in the book. */
function checkOrders(tracker: Tracker, orders: readonly BookOrder[], acceptedCount: number, options: InvariantOptions, add: Add): void {
  const orderNo = tracker.orderNo;
  const quantity = new Money(tracker.quantity);
  const filled = orders.filter((order) => order.tradedQuantity.gt(ZERO));
  const traded = filled.reduce((sum, order) => sum.plus(order.tradedQuantity), ZERO);
  const describe = () => orders.map((o) => `${o.correlationId}:${o.status}:${o.tradedQuantity.toFixed()}`).join(", ");
  if (traded.gt(quantity))
    add("duplicate", orderNo, `fills of ${traded.toFixed()} for a quantity of ${quantity.toFixed()} (${describe()})`);
  if (!options.splitFills && filled.length > 1) add("duplicate", orderNo, `${filled.length} filled orders (${describe()})`);
  const notRejected = orders.filter((order) => !["REJECTED", "CANCELLED", "EXPIRED"].includes(order.status)).length;
  if (acceptedCount > orders.length && acceptedCount > notRejected) {
    add("duplicate", orderNo, `the book accepted ${acceptedCount} orders but holds ${orders.length} (one correlation id sent twice?)`);
  }
  const overExited = new Money(tracker.overExitedQuantity || "0");
  if (overExited.gt(ZERO)) add("duplicate", orderNo, `the tracker itself records ${overExited.toFixed()} over-exited (${describe()})`);
  const live = orders.filter((order) => LIVE_STATUSES.has(order.status));
  if (tracker.status !== TrackerStatus.EXITING && live.length > 0) {
    add("live-order", orderNo, `${TrackerStatus[tracker.status]} with orders still live at the broker (${describe()})`);
  }
  switch (tracker.status) {
    case TrackerStatus.EXITED:
      if (!traded.eq(quantity))
        add("exited-without-fill", orderNo, `EXITED with fills of ${traded.toFixed()} of ${quantity.toFixed()} (${describe()})`);
      if (!tracker.exitPrice) add("exited-without-fill", orderNo, "EXITED with no exit price");
      else if (traded.eq(quantity)) {
        const average = averageFillPrice(filled);
        if (average && !new Money(tracker.exitPrice).toDecimalPlaces(6).eq(average.toDecimalPlaces(6))) {
          add("inconsistent-answer", orderNo, `EXITED at ${tracker.exitPrice}, but its fills average ${average.toFixed()}`);
        }
      }
      break;
    case TrackerStatus.ACTIVE: {
      const recorded = new Money(tracker.exitedQuantity || "0");
      if (!traded.eq(recorded))
        add(
          "active-with-fill",
          orderNo,
          `ACTIVE recording ${recorded.toFixed()} exited, the book filled ${traded.toFixed()} (${describe()})`,
        );
      break;
    }
    case TrackerStatus.EXITING:
      add("stuck", orderNo, `still EXITING (attempt ${tracker.exitAttempt}, ${tracker.exitCorrelationId}; ${describe() || "no order"})`);
      break;
    default:
      add("inconsistent-answer", orderNo, `ended ${TrackerStatus[tracker.status]}`);
  }
}

/** Invariants 3 and 5: what each client was told against the final state and the book. */
function checkAnswers(input: InvariantInput, add: Add): void {
  const orderByCorrelation = new Map<string, BookOrder>();
  for (const orders of input.book.ordersByTracker.values()) for (const order of orders) orderByCorrelation.set(order.correlationId, order);
  for (const call of input.calls) {
    if (!call.status) continue; // no answer (server killed, deadline): nothing was promised
    const tracker = input.trackers.get(call.orderNo);
    if (!tracker) continue;
    const said = `${call.status} from ${call.address} (client ${call.client})`;
    if (ANSWERS_THAT_NEVER_HAPPEN.has(call.status)) add("inconsistent-answer", call.orderNo, `${said}: ${call.message}`);
    if (SETTLED_EXIT_STATUSES.has(call.status)) {
      if (tracker.status !== TrackerStatus.EXITED)
        add("lost", call.orderNo, `${said}, but the tracker ended ${TrackerStatus[tracker.status]}`);
      else if (call.status === "EXITED" && call.correlationId && call.correlationId !== tracker.exitCorrelationId) {
        add(
          "inconsistent-answer",
          call.orderNo,
          `${said} for ${call.correlationId}, but the tracker exited by ${tracker.exitCorrelationId}`,
        );
      } else if (
        call.status === "EXITED" &&
        call.exitPrice &&
        tracker.exitPrice &&
        !new Money(call.exitPrice).eq(new Money(tracker.exitPrice))
      ) {
        add("inconsistent-answer", call.orderNo, `${said} at ${call.exitPrice}, but the tracker exited at ${tracker.exitPrice}`);
      } else if (call.status === "EXITED" && (call.priceSource !== "FILL" || !call.exitPrice)) {
        add("inconsistent-answer", call.orderNo, `${said} with price ${call.exitPrice || "(none)"} from ${call.priceSource}, not a fill`);
      }
    }
    if (call.status === "ROUTER_REJECTED" && call.correlationId) {
      const order = orderByCorrelation.get(call.correlationId);
      if (order && order.status === "TRADED")
        add("inconsistent-answer", call.orderNo, `${said} for ${call.correlationId}, but the book filled that order`);
    }
  }
}

/** Quantity-weighted average price of the fills, when every fill has a price. */
function averageFillPrice(filled: readonly BookOrder[]): Money | undefined {
  if (filled.length === 0 || filled.some((order) => !order.averagePrice)) return undefined;
  const quantity = filled.reduce((sum, order) => sum.plus(order.tradedQuantity), ZERO);
  const value = filled.reduce((sum, order) => sum.plus(order.tradedQuantity.times(order.averagePrice!)), ZERO);
  return value.dividedBy(quantity);
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
