/**
 * Step 6: the router call, bounded in time, with retries only for what was
 * definitely not placed, and the order look-up that resolves an unknown
 * outcome. Never re-places an order blindly.
 */
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import { openQuantity, type TrackerRecord } from "../domain/tracker.js";
import { withDeadline } from "../domain/deadline.js";
import { isTradingCoreError } from "../domain/trading-core-error.js";
import type { Money } from "../domain/money.js";
import type { BrokerOrder, Clock, ExitLog, ExitOrderRequest, LockLease, LtpQuote, OrderRouter } from "./ports.js";
import { LookupAlarms } from "./lookup-alarms.js";
import { classifyRouterReply, type RouterOutcome } from "./router-reply.js";

/**
 * A router outcome, plus "not placed": the router refused before accepting
 * (rate limited) on every try, or the send deadline passed before the order
 * was written (`late`).
 */
export type GatewayOutcome = RouterOutcome | { readonly kind: "not-placed"; readonly message: string; readonly late?: boolean };

export interface RouteResult {
  readonly outcome: GatewayOutcome;
  /** Router calls made. */
  readonly attempts: number;
}

export type LookupResult =
  | { readonly kind: "found"; readonly order: BrokerOrder; readonly outcome: RouterOutcome }
  | { readonly kind: "absent" }
  | { readonly kind: "lookup-failed"; readonly message: string };

export interface RouterGatewaySettings {
  readonly routerTimeoutMs: number;
  readonly notPlacedRetries: number;
  readonly notPlacedBackoffMs: number;
}

const NEVER = new AbortController().signal;

export class RouterGateway {
  /** Look-ups that keep failing, or find an order in a status nobody recognises: logged and counted. */
  readonly alarms: LookupAlarms;

  constructor(
    private readonly router: OrderRouter,
    private readonly clock: Clock,
    private readonly settings: RouterGatewaySettings,
    log?: ExitLog,
  ) {
    this.alarms = new LookupAlarms(log ?? { info() {}, warn() {}, error() {} });
  }

  /**
   * Places the order. First waits for the router's rate limit (`reserveSend`,
   * outside the router call's timeout: a wait for a slot is never an unknown
   * outcome), then checks the send deadline, then calls the router. Never
   * calls it once `order.sendDeadlineMs` has passed (then, and when the
   * router refuses for that reason, the outcome is "not placed"); stops
   * retrying once the lease is lost: a lost lock must not send anything new.
   * A refusal of the credentials is "not placed" at once, never retried.
   */
  async place(order: ExitOrderRequest, lease: Pick<LockLease, "lost"> & Partial<Pick<LockLease, "signal">>): Promise<RouteResult> {
    for (let attempts = 1; ; attempts++) {
      if (this.router.reserveSend) {
        try {
          await this.router.reserveSend(order, lease.signal ?? NEVER);
        } catch (error) {
          return {
            outcome: { kind: "not-placed", message: error instanceof Error ? error.message : String(error) },
            attempts: attempts - 1,
          };
        }
        if (lease.lost)
          return { outcome: { kind: "not-placed", message: "exit lock lost while waiting for a rate-limit slot" }, attempts: attempts - 1 };
      }
      if (this.clock.now() >= order.sendDeadlineMs) {
        return {
          outcome: { kind: "not-placed", message: "the send deadline passed before the order could be sent", late: true },
          attempts: attempts - 1,
        };
      }
      try {
        const reply = await withDeadline(this.settings.routerTimeoutMs, "order router", (signal) =>
          this.router.placeExitOrder(order, signal),
        );
        return { outcome: classifyRouterReply(reply), attempts };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (isTradingCoreError(error, "deadline-passed")) return { outcome: { kind: "not-placed", message, late: true }, attempts };
        if (isTradingCoreError(error, "unauthenticated")) return { outcome: { kind: "not-placed", message }, attempts };
        if (!isTradingCoreError(error, "resource-exhausted")) return { outcome: { kind: "unknown", message }, attempts };
        const backoffMs = error.retryAfterMs ?? this.settings.notPlacedBackoffMs * attempts;
        if (attempts > this.settings.notPlacedRetries || lease.lost || this.clock.now() + backoffMs >= order.sendDeadlineMs) {
          return { outcome: { kind: "not-placed", message }, attempts };
        }
        await this.clock.sleep(backoffMs);
        // The lease may have been lost while waiting: then nothing new may be sent.
        if (lease.lost) return { outcome: { kind: "not-placed", message: `${message}; exit lock lost before a retry` }, attempts };
      }
    }
  }

  /**
   * Looks the order up by correlation id (`quantity`: what the attempt's order
   * was for, when known; `sendingOver`: no process may still send an order of
   * the attempt); a failed look-up (or an unrecognised order status)
   * is reported, and alarmed when it persists, never thrown.
   */
  async find(correlationId: string, quantity?: Money, sendingOver = false): Promise<LookupResult> {
    try {
      const order = await withDeadline(this.settings.routerTimeoutMs, "order look-up", (signal) =>
        this.router.findOrder(correlationId, signal, quantity ? { quantity, sendingOver } : undefined),
      );
      if (!order) {
        this.alarms.succeeded(correlationId);
        return { kind: "absent" };
      }
      // A status we cannot read says neither "traded" nor "refused": leave the intent unresolved rather than guess.
      if (order.status === BrokerOrderStatus.UNSPECIFIED) {
        const message = `broker order ${order.orderId || correlationId} has a status this router does not recognise${order.message ? ` (${order.message})` : ""}`;
        this.alarms.failed(correlationId, "unrecognised-status", message);
        return { kind: "lookup-failed", message };
      }
      this.alarms.succeeded(correlationId);
      return { kind: "found", order, outcome: outcomeOfBrokerOrder(order) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.alarms.failed(correlationId, "failing", message);
      return { kind: "lookup-failed", message };
    }
  }
}

/**
 * A broker order as an outcome: accepted while working or TRADED (with the
 * fill when it has a price), rejected when dead. A dead order that traded
 * part of its quantity carries that part as `traded`; one that traded all of
 * it counts as TRADED.
 */
export function outcomeOfBrokerOrder(order: BrokerOrder): RouterOutcome {
  const traded = order.tradedQuantity.greaterThan(0)
    ? { quantity: order.tradedQuantity, ...(order.averagePrice ? { price: order.averagePrice } : {}) }
    : undefined;
  switch (order.status) {
    case BrokerOrderStatus.REJECTED:
    case BrokerOrderStatus.CANCELLED:
    case BrokerOrderStatus.EXPIRED: {
      if (traded && order.tradedQuantity.greaterThanOrEqualTo(order.quantity)) return filled(order);
      const message = order.message || `broker order ${BrokerOrderStatus[order.status]}`;
      return traded
        ? {
            kind: "rejected",
            orderId: order.orderId,
            message: `${message} after ${traded.quantity.toFixed()} of ${order.quantity.toFixed()} traded`,
            traded,
          }
        : { kind: "rejected", orderId: order.orderId, message };
    }
    case BrokerOrderStatus.TRADED:
      return filled(order);
    default:
      return { kind: "accepted", orderId: order.orderId };
  }
}

function filled(order: BrokerOrder): RouterOutcome {
  return order.averagePrice
    ? {
        kind: "accepted",
        orderId: order.orderId,
        fill: { price: order.averagePrice, quantity: order.tradedQuantity.greaterThan(0) ? order.tradedQuantity : order.quantity },
      }
    : { kind: "accepted", orderId: order.orderId };
}

/** The exit order of `intent` (its correlation id, the open quantity, the opposite side). */
export function exitOrderOf(intent: TrackerRecord, quote: LtpQuote, sendDeadlineMs: number): ExitOrderRequest {
  return {
    sendDeadlineMs,
    correlationId: intent.exitCorrelationId,
    orderNo: intent.orderNo,
    segment: intent.segment,
    securityId: intent.securityId,
    symbol: intent.symbol,
    transactionType: intent.side === Side.SHORT ? ("BUY" as const) : ("SELL" as const),
    quantity: openQuantity(intent),
    paper: intent.paper,
    ...(intent.productType ? { productType: intent.productType } : {}),
    ...(quote.price ? { referencePrice: quote.price } : {}),
  };
}
