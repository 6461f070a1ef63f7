/**
 * The embedded order router: a paper market (paper-market.ts) for MARKET
 * exit orders, without a broker. Answers in Dhan's shapes (`{ orderId,
 * orderStatus, filledQty, averageTradedPrice }`); fills at once at the
 * reference LTP, or at the next tick of the instrument (it is a TickSink),
 * reporting that fill to its `updates` sink, the path a broker's order
 * updates take. Late events (a late fill, a rejection after acceptance, the
 * cancel of a partial fill's rest, an expiry) happen when the order is next
 * looked up after their time; whoever looks it up (a waiting exit, the
 * reconciler) applies them through the same path. Its fault draws come from a seeded source, so a fault
 * run repeats: rejections, timeouts (the call hangs and nothing is placed),
 * lost replies (placed, then the connection drops), rejection after
 * acceptance, partial fills and late fills.
 *
 * It never writes an order after the request's send deadline: the deadline
 * is checked against `now` with no await between the check and the write.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { BrokerOrder, ExitLog, ExitOrderRequest, OrderRouter, OrderUpdateSink, RouterAvailability } from "../exit/ports.js";
import { instrumentKey, type TickRecord, type TickSink } from "../ticks/tick.js";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { MemoryPaperOrderBook } from "./memory-paper-order-book.js";
import type { PaperOrder, PaperOrderBook } from "./paper-order-book.js";
import { updateFromBrokerOrder } from "../exit/order-update-change.js";
import { drawFaults, dueSettlement, placedOrder, replyOf, traded } from "./paper-market.js";
import { seededRandom } from "./seeded-random.js";

export interface PaperRouterFaults {
  /** Added to every call, ms. */
  readonly latencyMs: number;
  /** Share of orders (0..1) answered REJECTED. */
  readonly rejectRate: number;
  /** Share of calls (0..1) that hang until aborted and place nothing. */
  readonly timeoutRate: number;
  /** Share of calls (0..1) whose order is placed but whose reply is lost. */
  readonly lostReplyRate: number;
  /** Share of orders (0..1) accepted, then REJECTED `lateMs` later. */
  readonly rejectAfterAcceptRate: number;
  /** Share of orders (0..1) half traded at once, the rest CANCELLED `lateMs` later. */
  readonly partialFillRate: number;
  /** Share of orders (0..1) accepted and traded only `lateMs` later. */
  readonly lateFillRate: number;
  /** Delay of those later events, ms. */
  readonly lateMs: number;
}

export const NO_FAULTS: PaperRouterFaults = {
  latencyMs: 0,
  rejectRate: 0,
  timeoutRate: 0,
  lostReplyRate: 0,
  rejectAfterAcceptRate: 0,
  partialFillRate: 0,
  lateFillRate: 0,
  lateMs: 2_000,
};

export const DEFAULT_PAPER_EXPIRY_MS = 60_000;
/** How long the instruments with waiting orders of a shared book are cached between tick batches, ms. */
const WAITING_REFRESH_MS = 100;

export interface PaperRouterOptions {
  readonly enabled?: boolean;
  readonly faults?: Partial<PaperRouterFaults>;
  /** Seed of the fault draws (mulberry32); 1 when absent. */
  readonly seed?: number;
  /** Uniform [0, 1) draws instead of the seeded source; for tests that script the faults. */
  readonly random?: () => number;
  /** A book shared between processes (Redis); a private in-memory one when absent. */
  readonly orderBook?: PaperOrderBook;
  /** Epoch ms; send deadlines and late events are judged by it. Date.now when absent. */
  readonly now?: () => number;
  /** An order waiting for a tick EXPIRES this long after it was placed, ms. */
  readonly expireAfterMs?: number;
  /** Where later order changes are reported (ApplyOrderUpdate's path); can be set after construction. */
  readonly updates?: OrderUpdateSink;
  readonly log?: ExitLog;
}

export class PaperRouter implements OrderRouter, TickSink {
  private readonly placedPerTracker = new Map<string, number>();
  enabled: boolean;
  faults: PaperRouterFaults;
  updates: OrderUpdateSink | undefined;
  private readonly random: () => number;
  private readonly book: PaperOrderBook;
  private readonly now: () => number;
  private readonly expireAfterMs: number;
  private waiting: { keys: Set<string>; readAtMs: number } = { keys: new Set(), readAtMs: -Infinity };
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: PaperRouterOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.random = options.random ?? seededRandom(options.seed ?? 1);
    this.book = options.orderBook ?? new MemoryPaperOrderBook();
    this.now = options.now ?? Date.now;
    this.expireAfterMs = options.expireAfterMs ?? DEFAULT_PAPER_EXPIRY_MS;
    this.updates = options.updates;
  }

  availability(): RouterAvailability {
    return this.enabled ? { available: true } : { available: false, reason: "the paper router is disabled" };
  }

  async placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown> {
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs, signal);
    const draws = drawFaults(this.random);
    if (draws.timeout < this.faults.timeoutRate) return hangUntil(signal);
    const nowMs = this.now();
    const placed = placedOrder(order, draws, this.faults, nowMs);
    const accepted = placed.status !== BrokerOrderStatus.REJECTED;
    if (nowMs >= order.sendDeadlineMs) {
      throw new TradingCoreError(
        "deadline-passed",
        `paper router: send deadline passed ${nowMs - order.sendDeadlineMs} ms ago; order ${order.correlationId} not placed`,
      );
    }
    // No await between the deadline check above and this write.
    const orderId = await this.book.record(placed, accepted);
    if (accepted) {
      this.placedPerTracker.set(order.orderNo, (this.placedPerTracker.get(order.orderNo) ?? 0) + 1);
      if (!placed.fate && !placed.averagePrice) this.waiting.keys.add(instrumentKey(Segment[order.segment], order.securityId));
    }
    if (draws.lostReply < this.faults.lostReplyRate) {
      throw new TradingCoreError("unavailable", "paper router: connection lost after the order was sent");
    }
    return replyOf({ ...placed, orderId });
  }

  /** The order, after settling whatever became due for it (a late event, an expiry). */
  async findOrder(correlationId: string): Promise<BrokerOrder | undefined> {
    const order = await this.book.find(correlationId);
    if (!order) return undefined;
    const due = dueSettlement(order, this.now(), this.expireAfterMs);
    if (!due) return order;
    // Whoever looked it up applies what it found (the order update path); it is not reported twice.
    return (await this.book.settle(due)) ? due : this.book.find(correlationId);
  }

  /** Ticks fill the orders waiting for their instrument; never blocks the tick path. */
  write(ticks: readonly TickRecord[]): void {
    if (this.waiting.keys.size === 0 && this.now() - this.waiting.readAtMs < WAITING_REFRESH_MS) return;
    this.ticking = this.ticking
      .then(() => this.fillAtTicks(ticks))
      .catch((error: unknown) => this.options.log?.warn({ err: error }, "paper router: filling orders at ticks failed"));
  }

  /** Resolves once the ticks written so far have filled what they fill. */
  whenTicksApplied(): Promise<void> {
    return this.ticking;
  }

  /** Orders this process accepted for one tracker (a shared book counts every process's: `PaperOrderBook.acceptedFor`). */
  ordersFor(orderNo: string): number {
    return this.placedPerTracker.get(orderNo) ?? 0;
  }

  /** Orders accepted in total by this process. */
  get acceptedOrders(): number {
    let total = 0;
    for (const count of this.placedPerTracker.values()) total += count;
    return total;
  }

  /** Sets a stored order's broker fields, as a broker would on a later fill or cancel; for tests and demos. In-memory book only. */
  updateOrder(correlationId: string, change: Partial<Omit<BrokerOrder, "orderId" | "correlationId">>): void {
    if (this.book instanceof MemoryPaperOrderBook) this.book.update(correlationId, change);
  }

  private async fillAtTicks(ticks: readonly TickRecord[]): Promise<void> {
    const nowMs = this.now();
    if (nowMs - this.waiting.readAtMs >= WAITING_REFRESH_MS)
      this.waiting = { keys: new Set(await this.book.waitingInstruments()), readAtMs: nowMs };
    for (const tick of ticks) {
      const key = instrumentKey(Segment[tick.segment], tick.securityId);
      if (!this.waiting.keys.has(key)) continue;
      for (const correlationId of await this.book.waitingForTick(tick.segment, tick.securityId)) {
        const order = await this.book.find(correlationId);
        if (!order) continue;
        const filled = traded(order, tick.ltp);
        if (await this.book.settle(filled)) await this.report(filled);
      }
      if ((await this.book.waitingForTick(tick.segment, tick.securityId)).length === 0) this.waiting.keys.delete(key);
    }
  }

  private async report(order: PaperOrder): Promise<void> {
    await this.updates
      ?.apply(updateFromBrokerOrder(order, this.now()))
      .catch((error: unknown) =>
        this.options.log?.warn(
          { err: error, correlationId: order.correlationId },
          "paper router: order update not applied; the look-up path settles it",
        ),
      );
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
