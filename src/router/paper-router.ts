/**
 * The embedded order router: fills MARKET exit orders at the reference LTP
 * without a broker. Answers in Dhan's shapes (`{ orderId, orderStatus }`), and
 * can inject latency and faults so every exit path can be exercised:
 * rejections, timeouts (the call hangs and nothing is placed) and lost
 * replies (the order is placed, then the connection drops).
 */
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { ZERO } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { PaperOrderBook } from "./paper-order-book.js";
import type { BrokerOrder, ExitOrderRequest, OrderRouter, RouterAvailability } from "../exit/ports.js";

export interface PaperRouterFaults {
  /** Added to every call, ms. */
  readonly latencyMs: number;
  /** Share of orders (0..1) answered REJECTED. */
  readonly rejectRate: number;
  /** Share of calls (0..1) that hang until aborted and place nothing. */
  readonly timeoutRate: number;
  /** Share of calls (0..1) whose order is placed but whose reply is lost. */
  readonly lostReplyRate: number;
}

export const NO_FAULTS: PaperRouterFaults = { latencyMs: 0, rejectRate: 0, timeoutRate: 0, lostReplyRate: 0 };

export interface PaperRouterOptions {
  readonly enabled?: boolean;
  readonly faults?: Partial<PaperRouterFaults>;
  /** Uniform [0, 1); injectable so tests choose the faults. */
  readonly random?: () => number;
  /** A book shared between processes; orders are then recorded in it and found through it. */
  readonly orderBook?: PaperOrderBook;
}

export class PaperRouter implements OrderRouter {
  private readonly orders = new Map<string, BrokerOrder & { readonly orderNo: string }>();
  private readonly placedPerTracker = new Map<string, number>();
  private nextOrderId = 1;
  enabled: boolean;
  faults: PaperRouterFaults;
  private readonly random: () => number;
  private readonly orderBook: PaperOrderBook | undefined;

  constructor(options: PaperRouterOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.random = options.random ?? Math.random;
    this.orderBook = options.orderBook;
  }

  availability(): RouterAvailability {
    return this.enabled ? { available: true } : { available: false, reason: "the paper router is disabled" };
  }

  async placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown> {
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs, signal);
    if (this.random() < this.faults.timeoutRate) return hangUntil(signal);
    const rejected = this.random() < this.faults.rejectRate;
    const unnumbered = {
      orderNo: order.orderNo,
      correlationId: order.correlationId,
      status: rejected ? BrokerOrderStatus.REJECTED : order.referencePrice ? BrokerOrderStatus.TRADED : BrokerOrderStatus.PENDING,
      quantity: order.quantity,
      tradedQuantity: rejected || !order.referencePrice ? ZERO : order.quantity,
      ...(order.referencePrice && !rejected ? { averagePrice: order.referencePrice } : {}),
      ...(rejected ? { message: "paper router: rejected by fault injection" } : {}),
    };
    const orderId = this.orderBook ? await this.orderBook.record(unnumbered, !rejected) : `paper-${this.nextOrderId++}`;
    const placed = { ...unnumbered, orderId };
    this.orders.set(order.correlationId, placed);
    if (!rejected) this.placedPerTracker.set(order.orderNo, (this.placedPerTracker.get(order.orderNo) ?? 0) + 1);
    if (this.random() < this.faults.lostReplyRate) {
      throw new TradingCoreError("unavailable", "paper router: connection lost after the order was sent");
    }
    return { orderId, orderStatus: rejected ? "REJECTED" : "TRANSIT", ...(placed.message ? { message: placed.message } : {}) };
  }

  async findOrder(correlationId: string): Promise<BrokerOrder | undefined> {
    return this.orderBook ? this.orderBook.find(correlationId) : this.orders.get(correlationId);
  }

  /** Orders this process accepted for one tracker (a shared book counts every process's: `PaperOrderBook.acceptedFor`). */
  ordersFor(orderNo: string): number {
    return this.placedPerTracker.get(orderNo) ?? 0;
  }

  /** Orders accepted in total. */
  get acceptedOrders(): number {
    let total = 0;
    for (const count of this.placedPerTracker.values()) total += count;
    return total;
  }

  /** Sets a stored order's broker status, as a broker would on a later fill or cancel; for tests and demos. Local orders only, not a shared book. */
  updateOrder(correlationId: string, change: Partial<Omit<BrokerOrder, "orderId" | "correlationId">>): void {
    const order = this.orders.get(correlationId);
    if (order) this.orders.set(correlationId, { ...order, ...change });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function hangUntil(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new TradingCoreError("timeout", "paper router: no answer (injected timeout)"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}
