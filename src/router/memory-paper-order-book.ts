/** The paper order book of one process: Maps, every operation atomic because none awaits mid-way. */
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import type { BrokerOrder } from "../exit/ports.js";
import { instrumentKey } from "../ticks/tick.js";
import { isLiveOrder, type PaperOrder, type PaperOrderBook, waitsForTick } from "./paper-order-book.js";

export class MemoryPaperOrderBook implements PaperOrderBook {
  private readonly orders = new Map<string, PaperOrder>();
  private readonly accepted = new Map<string, number>();
  /** Correlation ids waiting for a tick, by instrument key. */
  private readonly waiting = new Map<string, Set<string>>();
  private nextOrderId = 1;

  async record(order: Omit<PaperOrder, "orderId">, accepted: boolean): Promise<string> {
    const orderId = `paper-${this.nextOrderId++}`;
    this.store({ ...order, orderId });
    if (accepted) this.accepted.set(order.orderNo, (this.accepted.get(order.orderNo) ?? 0) + 1);
    return orderId;
  }

  async find(correlationId: string): Promise<PaperOrder | undefined> {
    return this.orders.get(correlationId);
  }

  async settle(next: PaperOrder): Promise<boolean> {
    const stored = this.orders.get(next.correlationId);
    if (!stored || !isLiveOrder(stored.status)) return false;
    this.store(next);
    return true;
  }

  async waitingForTick(segment: Segment, securityId: string): Promise<string[]> {
    return [...(this.waiting.get(instrumentKey(Segment[segment], securityId)) ?? [])];
  }

  async waitingInstruments(): Promise<ReadonlySet<string>> {
    return new Set(this.waiting.keys());
  }

  async acceptedFor(orderNo: string): Promise<number> {
    return this.accepted.get(orderNo) ?? 0;
  }

  /** Overwrites a stored order's broker fields, as a broker would; for tests and demos. */
  update(correlationId: string, change: Partial<Omit<BrokerOrder, "orderId" | "correlationId">>): void {
    const order = this.orders.get(correlationId);
    if (order) this.store({ ...order, ...change });
  }

  private store(order: PaperOrder): void {
    this.orders.set(order.correlationId, order);
    const key = instrumentKey(Segment[order.segment], order.securityId);
    const set = this.waiting.get(key);
    if (waitsForTick(order)) {
      if (set) set.add(order.correlationId);
      else this.waiting.set(key, new Set([order.correlationId]));
    } else if (set?.delete(order.correlationId) && set.size === 0) {
      this.waiting.delete(key);
    }
  }
}
