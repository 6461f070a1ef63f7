/**
 * The paper order book on Redis, shared by every tradingcore process of a
 * deployment: a paper exit placed by one process is found by another
 * (resume, reconciler), a tick received by any process fills the orders
 * waiting for it, a late fill or rejection settled by one is seen by all,
 * and accepted orders are counted across processes.
 *
 * Layout (prefix P): `P paper:order:{correlation_id}` hash per order (decimals
 * as decimal strings, enums by name), `P paper:accepted:{order_no}` counter,
 * `P paper:waiting:{SEG}:{SID}` set of correlation ids waiting for a tick and
 * `P paper:waiting` set of those instruments. An order, its count and its
 * waiting entry are written in one MULTI/EXEC; a settlement is one Lua script
 * that writes only while the stored order is still live, so each order is
 * settled once whichever process gets there first.
 */
import { randomUUID } from "node:crypto";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { formatDecimal, Money } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { RedisTrackerClient } from "../store/redis-tracker-client.js";
import { instrumentKey } from "../ticks/tick.js";
import { type PaperFate, type PaperOrder, type PaperOrderBook, waitsForTick } from "./paper-order-book.js";

type BookClient = Pick<RedisTrackerClient, "multi" | "hGetAll" | "get" | "eval" | "sMembers">;

/** KEYS: order hash, instrument's waiting set, waiting instruments. ARGV: still waiting ("1"/"0"), correlation id, instrument key, fields. */
const SETTLE = `
local status = redis.call('hget', KEYS[1], 'status')
if status ~= 'TRANSIT' and status ~= 'PENDING' and status ~= 'PART_TRADED' then return 0 end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], unpack(ARGV, 4))
if ARGV[1] == '0' then
  redis.call('srem', KEYS[2], ARGV[2])
  if redis.call('scard', KEYS[2]) == 0 then redis.call('srem', KEYS[3], ARGV[3]) end
end
return 1`;

export class RedisPaperOrderBook implements PaperOrderBook {
  constructor(
    private readonly client: BookClient,
    private readonly keyPrefix = "tc:",
  ) {}

  async record(order: Omit<PaperOrder, "orderId">, accepted: boolean): Promise<string> {
    const orderId = `paper-${randomUUID()}`;
    const placed: PaperOrder = { ...order, orderId };
    const instrument = instrumentKey(Segment[order.segment], order.securityId);
    // Queued on the connection in this tick: no await between the caller's deadline check and the write.
    await this.guard("record", async () => {
      const multi = this.client.multi().hSet(this.orderKey(order.correlationId), fieldsOf(placed));
      if (accepted) multi.incr(this.acceptedKey(order.orderNo));
      if (waitsForTick(placed)) multi.sAdd(this.waitingKey(instrument), order.correlationId).sAdd(this.waitingIndexKey(), instrument);
      await multi.exec();
    });
    return orderId;
  }

  async find(correlationId: string): Promise<PaperOrder | undefined> {
    const hash = await this.guard("find", () => this.client.hGetAll(this.orderKey(correlationId)));
    if (!hash.orderId) return undefined;
    return orderOf(hash, correlationId);
  }

  async settle(next: PaperOrder): Promise<boolean> {
    const instrument = instrumentKey(Segment[next.segment], next.securityId);
    const fields = Object.entries(fieldsOf(next)).flat();
    const written = await this.guard("settle", () =>
      this.client.eval(SETTLE, {
        keys: [this.orderKey(next.correlationId), this.waitingKey(instrument), this.waitingIndexKey()],
        arguments: [waitsForTick(next) ? "1" : "0", next.correlationId, instrument, ...fields],
      }),
    );
    return Number(written) === 1;
  }

  async waitingForTick(segment: Segment, securityId: string): Promise<string[]> {
    return this.guard("waiting", () => this.client.sMembers(this.waitingKey(instrumentKey(Segment[segment], securityId))));
  }

  async waitingInstruments(): Promise<ReadonlySet<string>> {
    return new Set(await this.guard("waiting", () => this.client.sMembers(this.waitingIndexKey())));
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

  private waitingKey(instrument: string): string {
    return `${this.keyPrefix}paper:waiting:${instrument}`;
  }

  private waitingIndexKey(): string {
    return `${this.keyPrefix}paper:waiting`;
  }

  private async guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof TradingCoreError) throw error;
      throw new TradingCoreError("unavailable", `paper order book ${what}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
}

function fieldsOf(order: PaperOrder): Record<string, string> {
  return {
    orderId: order.orderId,
    orderNo: order.orderNo,
    correlationId: order.correlationId,
    segment: Segment[order.segment],
    securityId: order.securityId,
    status: BrokerOrderStatus[order.status],
    quantity: formatDecimal(order.quantity),
    tradedQuantity: formatDecimal(order.tradedQuantity),
    placedAtMs: String(order.placedAtMs),
    ...(order.averagePrice ? { averagePrice: formatDecimal(order.averagePrice) } : {}),
    ...(order.message ? { message: order.message } : {}),
    ...(order.fate ? { fate: order.fate } : {}),
    ...(order.settleAtMs !== undefined ? { settleAtMs: String(order.settleAtMs) } : {}),
    ...(order.fillPrice ? { fillPrice: formatDecimal(order.fillPrice) } : {}),
  };
}

function orderOf(hash: Record<string, string>, correlationId: string): PaperOrder {
  const status = BrokerOrderStatus[hash.status as keyof typeof BrokerOrderStatus];
  const segment = Segment[hash.segment as keyof typeof Segment];
  if (typeof status !== "number")
    throw new TradingCoreError("internal", `paper order ${correlationId} has an unknown status ${hash.status}`);
  return {
    orderId: hash.orderId!,
    orderNo: hash.orderNo ?? "",
    correlationId,
    segment: typeof segment === "number" ? segment : Segment.UNSPECIFIED,
    securityId: hash.securityId ?? "",
    status,
    quantity: new Money(hash.quantity ?? "0"),
    tradedQuantity: new Money(hash.tradedQuantity ?? "0"),
    placedAtMs: Number(hash.placedAtMs ?? "0"),
    ...(hash.averagePrice ? { averagePrice: new Money(hash.averagePrice) } : {}),
    ...(hash.message ? { message: hash.message } : {}),
    ...(hash.fate ? { fate: hash.fate as PaperFate } : {}),
    ...(hash.settleAtMs ? { settleAtMs: Number(hash.settleAtMs) } : {}),
    ...(hash.fillPrice ? { fillPrice: new Money(hash.fillPrice) } : {}),
  };
}
