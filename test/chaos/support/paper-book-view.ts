/**
 * The shared paper order book read straight from Redis, as the broker's own
 * record: every order any server placed, grouped by tracker. The invariant
 * checker counts orders and fills here, never through tradingcore's answers.
 */
import { createClient } from "redis";
import { Money } from "../../../src/domain/money.js";

export interface BookOrder {
  readonly orderId: string;
  readonly orderNo: string;
  readonly correlationId: string;
  /** BrokerOrderStatus name: TRADED, PENDING, REJECTED, ... */
  readonly status: string;
  readonly quantity: Money;
  readonly tradedQuantity: Money;
  readonly averagePrice?: Money;
  readonly message?: string;
}

export interface BookSnapshot {
  /** Every order, by the tracker (order_no) it exits. */
  readonly ordersByTracker: ReadonlyMap<string, readonly BookOrder[]>;
  /** Accepted orders per tracker as the book counts them (a second order under one correlation id shows here only). */
  readonly acceptedByTracker: ReadonlyMap<string, number>;
  readonly totalOrders: number;
}

/** Reads the whole book under `prefix` from the Redis at `url`. */
export async function readPaperBook(url: string, prefix: string): Promise<BookSnapshot> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    const ordersByTracker = new Map<string, BookOrder[]>();
    let totalOrders = 0;
    for await (const keys of client.scanIterator({ MATCH: `${prefix}paper:order:*`, COUNT: 500 })) {
      for (const key of keys) {
        const hash = await client.hGetAll(key);
        if (!hash.orderId || !hash.orderNo) continue;
        const order: BookOrder = {
          orderId: hash.orderId,
          orderNo: hash.orderNo,
          correlationId: hash.correlationId ?? key.slice(`${prefix}paper:order:`.length),
          status: hash.status ?? "UNSPECIFIED",
          quantity: new Money(hash.quantity ?? "0"),
          tradedQuantity: new Money(hash.tradedQuantity ?? "0"),
          ...(hash.averagePrice ? { averagePrice: new Money(hash.averagePrice) } : {}),
          ...(hash.message ? { message: hash.message } : {}),
        };
        const list = ordersByTracker.get(order.orderNo) ?? [];
        list.push(order);
        ordersByTracker.set(order.orderNo, list);
        totalOrders++;
      }
    }
    const acceptedByTracker = new Map<string, number>();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}paper:accepted:*`, COUNT: 500 })) {
      for (const key of keys) {
        const count = await client.get(key);
        acceptedByTracker.set(key.slice(`${prefix}paper:accepted:`.length), Number(count ?? 0));
      }
    }
    return { ordersByTracker, acceptedByTracker, totalOrders };
  } finally {
    client.destroy();
  }
}
