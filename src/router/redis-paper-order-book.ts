/**
 * The paper order book on Redis, shared by every tradingcore process of a
 * deployment, so a paper exit placed by one process is found by another
 * (resume, reconciler) and accepted orders are counted across processes.
 *
 * Layout (prefix P): `P paper:order:{correlation_id}` hash per order (decimals
 * as decimal strings, status by name) and `P paper:accepted:{order_no}`
 * counter. An order and its count are written in one MULTI/EXEC.
 */
import { randomUUID } from "node:crypto";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { formatDecimal, Money } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { BrokerOrder } from "../exit/ports.js";
import type { RedisTrackerClient } from "../store/redis-tracker-client.js";
import type { PaperOrder, PaperOrderBook } from "./paper-order-book.js";

type BookClient = Pick<RedisTrackerClient, "multi" | "hGetAll" | "get">;

export class RedisPaperOrderBook implements PaperOrderBook {
  constructor(
    private readonly client: BookClient,
    private readonly keyPrefix = "tc:",
  ) {}

  async record(order: Omit<PaperOrder, "orderId">, accepted: boolean): Promise<string> {
    const orderId = `paper-${randomUUID()}`;
    const fields: Record<string, string> = {
      orderId,
      orderNo: order.orderNo,
      correlationId: order.correlationId,
      status: BrokerOrderStatus[order.status],
      quantity: formatDecimal(order.quantity),
      tradedQuantity: formatDecimal(order.tradedQuantity),
      ...(order.averagePrice ? { averagePrice: formatDecimal(order.averagePrice) } : {}),
      ...(order.message ? { message: order.message } : {}),
    };
    await this.guard("record", async () => {
      const multi = this.client.multi().hSet(this.orderKey(order.correlationId), fields);
      if (accepted) multi.incr(this.acceptedKey(order.orderNo));
      await multi.exec();
    });
    return orderId;
  }

  async find(correlationId: string): Promise<BrokerOrder | undefined> {
    const hash = await this.guard("find", () => this.client.hGetAll(this.orderKey(correlationId)));
    if (!hash.orderId) return undefined;
    const status = BrokerOrderStatus[hash.status as keyof typeof BrokerOrderStatus];
    if (typeof status !== "number") throw new TradingCoreError("internal", `paper order ${correlationId} has an unknown status ${hash.status}`);
    return {
      orderId: hash.orderId,
      correlationId,
      status,
      quantity: new Money(hash.quantity ?? "0"),
      tradedQuantity: new Money(hash.tradedQuantity ?? "0"),
      ...(hash.averagePrice ? { averagePrice: new Money(hash.averagePrice) } : {}),
      ...(hash.message ? { message: hash.message } : {}),
    };
  }

  async acceptedFor(orderNo: string): Promise<number> {
    const count = await this.guard("count", () => this.client.get(this.acceptedKey(orderNo)));
    return count === null ? 0 : Number(count);
  }

  private orderKey(correlationId: string): string {
    return `${this.keyPrefix}paper:order:${correlationId}`;
  }

  private acceptedKey(orderNo: string): string {
    return `${this.keyPrefix}paper:accepted:${orderNo}`;
  }

  private async guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof TradingCoreError) throw error;
      throw new TradingCoreError("unavailable", `paper order book ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
