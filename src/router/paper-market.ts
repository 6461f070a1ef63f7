/**
 * How the paper market treats an order, as pure functions of the order, the
 * fault draws and the time, so every process that shares a book settles an
 * order the same way:
 *
 * - With a reference LTP it trades at once at that price.
 * - Without one it waits (PENDING) and trades at the next tick of its
 *   instrument, or EXPIRES `expireAfterMs` after it was placed.
 * - Injected fates, each drawn per order: rejected at once; accepted, then
 *   rejected (`reject`); half traded, the rest cancelled (`cancel-rest`);
 *   accepted, traded later (`fill`). A fate happens `lateMs` after placement,
 *   the first time the order is looked at after that.
 */
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { type Money, ZERO } from "../domain/money.js";
import type { ExitOrderRequest } from "../exit/ports.js";
import { isLiveOrder, type PaperOrder, waitsForTick } from "./paper-order-book.js";

/** One uniform [0, 1) draw per fault, always all of them, so a seeded run repeats whatever the outcomes. */
export interface FaultDraws {
  readonly timeout: number;
  readonly reject: number;
  readonly lostReply: number;
  readonly rejectAfterAccept: number;
  readonly partialFill: number;
  readonly lateFill: number;
}

export interface PaperMarketRates {
  readonly rejectRate: number;
  readonly rejectAfterAcceptRate: number;
  readonly partialFillRate: number;
  readonly lateFillRate: number;
  readonly lateMs: number;
}

export function drawFaults(random: () => number): FaultDraws {
  return {
    timeout: random(),
    reject: random(),
    lostReply: random(),
    rejectAfterAccept: random(),
    partialFill: random(),
    lateFill: random(),
  };
}

/** The order as the market first records it. */
export function placedOrder(
  order: ExitOrderRequest,
  draws: FaultDraws,
  rates: PaperMarketRates,
  nowMs: number,
): Omit<PaperOrder, "orderId"> {
  const base = {
    orderNo: order.orderNo,
    correlationId: order.correlationId,
    segment: order.segment,
    securityId: order.securityId,
    quantity: order.quantity,
    tradedQuantity: ZERO,
    placedAtMs: nowMs,
  };
  const price = order.referencePrice;
  const later = nowMs + rates.lateMs;
  if (draws.reject < rates.rejectRate)
    return { ...base, status: BrokerOrderStatus.REJECTED, message: "paper router: rejected by fault injection" };
  if (draws.rejectAfterAccept < rates.rejectAfterAcceptRate)
    return { ...base, status: BrokerOrderStatus.TRANSIT, fate: "reject", settleAtMs: later };
  const half = order.quantity.dividedToIntegerBy(2);
  if (price && half.greaterThan(0) && draws.partialFill < rates.partialFillRate) {
    return {
      ...base,
      status: BrokerOrderStatus.PART_TRADED,
      tradedQuantity: half,
      averagePrice: price,
      fate: "cancel-rest",
      settleAtMs: later,
    };
  }
  if (price && draws.lateFill < rates.lateFillRate)
    return { ...base, status: BrokerOrderStatus.PENDING, fate: "fill", settleAtMs: later, fillPrice: price };
  if (price) return { ...base, status: BrokerOrderStatus.TRADED, tradedQuantity: order.quantity, averagePrice: price };
  return { ...base, status: BrokerOrderStatus.PENDING };
}

/** What a live order becomes at `nowMs`, or undefined when nothing is due yet. */
export function dueSettlement(order: PaperOrder, nowMs: number, expireAfterMs: number): PaperOrder | undefined {
  if (!isLiveOrder(order.status)) return undefined;
  if (waitsForTick(order)) {
    return nowMs >= order.placedAtMs + expireAfterMs
      ? { ...order, status: BrokerOrderStatus.EXPIRED, message: "paper router: no tick before the order expired" }
      : undefined;
  }
  if (order.settleAtMs === undefined || nowMs < order.settleAtMs) return undefined;
  switch (order.fate) {
    case "reject":
      return withoutFate({
        ...order,
        status: BrokerOrderStatus.REJECTED,
        message: "paper router: rejected after acceptance by fault injection",
      });
    case "cancel-rest":
      return withoutFate({
        ...order,
        status: BrokerOrderStatus.CANCELLED,
        message: "paper router: rest cancelled after a partial fill by fault injection",
      });
    default:
      return order.fillPrice ? traded(order, order.fillPrice) : withoutFate(order);
  }
}

/** The order traded in full at `price` (a tick, or its late fill). */
export function traded(order: PaperOrder, price: Money): PaperOrder {
  return withoutFate({ ...order, status: BrokerOrderStatus.TRADED, tradedQuantity: order.quantity, averagePrice: price });
}

/** The reply to placeExitOrder, in Dhan's shape. */
export function replyOf(order: PaperOrder): Record<string, unknown> {
  return {
    orderId: order.orderId,
    orderStatus: BrokerOrderStatus[order.status],
    filledQty: order.tradedQuantity.toFixed(),
    ...(order.averagePrice ? { averageTradedPrice: order.averagePrice.toFixed() } : {}),
    ...(order.message ? { message: order.message } : {}),
  };
}

function withoutFate(order: PaperOrder): PaperOrder {
  const { fate: _fate, settleAtMs: _settleAtMs, fillPrice: _fillPrice, ...rest } = order;
  return rest;
}
