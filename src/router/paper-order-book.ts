import type { BrokerOrder } from "../exit/ports.js";

/** A paper order as the book keeps it: the broker's view plus the tracker it exits. */
export type PaperOrder = BrokerOrder & { readonly orderNo: string };

/**
 * Where the paper router keeps its orders when they must be shared between
 * processes (several tradingcore processes on one Redis): any process can
 * find an order another placed, and accepted orders are counted per tracker
 * across all of them, which is how "exactly one order per exit" is checked.
 */
export interface PaperOrderBook {
  /** Stores a placed order under a fresh order id unique across processes; answers that id. */
  record(order: Omit<PaperOrder, "orderId">, accepted: boolean): Promise<string>;
  find(correlationId: string): Promise<BrokerOrder | undefined>;
  /** Accepted (not rejected) orders placed for one tracker, by every process. */
  acceptedFor(orderNo: string): Promise<number>;
}
