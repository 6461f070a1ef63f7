/**
 * The paper market shared through Redis by several processes (here two
 * PaperRouters on one book, each as its own process would hold it): an
 * order placed by one is found by the other, a tick received by either
 * fills the orders waiting for it, a late event is settled once whoever
 * looks first, and what one settles the other sees.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { ExitOrderRequest } from "../../../src/exit/ports.js";
import type { OrderUpdate } from "../../../src/exit/order-update-change.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { RedisPaperOrderBook } from "../../../src/router/redis-paper-order-book.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { RedisServer } from "../../support/redis-server.js";

let sequence = 0;
function order(change: Partial<ExitOrderRequest> = {}): ExitOrderRequest {
  sequence++;
  return {
    correlationId: `x-book-${process.pid}-${sequence}`,
    orderNo: `BOOK-${sequence}`,
    segment: Segment.NSE_FNO,
    securityId: `77${sequence}`,
    symbol: "NIFTY",
    transactionType: "SELL",
    quantity: new Money("75"),
    paper: true,
    sendDeadlineMs: Number.MAX_SAFE_INTEGER,
    ...change,
  };
}

describe("two paper routers sharing one Redis order book", () => {
  let redis: RedisServer;
  const clients: RedisTrackerClient[] = [];
  let nowMs = Date.parse("2025-01-02T09:15:00Z");
  const updatesOfB: OrderUpdate[] = [];
  let a: PaperRouter;
  let b: PaperRouter;
  const signal = () => AbortSignal.timeout(10_000);

  beforeAll(async () => {
    redis = await RedisServer.start();
    const routerOn = async (faults = {}) => {
      const client = createRedisTrackerClient(redis.url);
      await client.connect();
      clients.push(client);
      return new PaperRouter({ orderBook: new RedisPaperOrderBook(client, `book-${process.pid}:`), now: () => nowMs, faults });
    };
    a = await routerOn({ lateFillRate: 1, lateMs: 1_000 });
    b = await routerOn();
    b.updates = { apply: async (update) => void updatesOfB.push(update) };
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await redis?.destroy();
  });

  it("finds, from the other router, an order one of them placed", async () => {
    const placed = order({ referencePrice: new Money("101.5") });
    await b.placeExitOrder(placed, signal());
    expect(await a.findOrder(placed.correlationId)).toMatchObject({
      status: BrokerOrderStatus.TRADED,
      tradedQuantity: new Money("75"),
      averagePrice: new Money("101.5"),
    });
  });

  it("fills an order sent with no LTP at the next tick either router receives, and reports it", async () => {
    const placed = order();
    const reply = (await b.placeExitOrder(placed, signal())) as { orderStatus: string };
    expect(reply.orderStatus).toBe("PENDING");
    expect((await a.findOrder(placed.correlationId))?.status).toBe(BrokerOrderStatus.PENDING);
    b.write([{ segment: placed.segment, securityId: placed.securityId, ltp: new Money("99.25"), timeMs: nowMs }]);
    await b.whenTicksApplied();
    expect(await a.findOrder(placed.correlationId)).toMatchObject({ status: BrokerOrderStatus.TRADED, averagePrice: new Money("99.25") });
    expect(updatesOfB.filter((update) => update.correlationId === placed.correlationId)).toMatchObject([
      { status: BrokerOrderStatus.TRADED },
    ]);
  });

  it("settles a late fill once, by whichever router looks after its time, and both see it", async () => {
    const placed = order({ referencePrice: new Money("100.5") });
    await a.placeExitOrder(placed, signal());
    expect((await b.findOrder(placed.correlationId))?.status).toBe(BrokerOrderStatus.PENDING);
    nowMs += 1_000;
    const [seenByA, seenByB] = await Promise.all([a.findOrder(placed.correlationId), b.findOrder(placed.correlationId)]);
    expect(seenByA).toMatchObject({ status: BrokerOrderStatus.TRADED, averagePrice: new Money("100.5") });
    expect(seenByB).toMatchObject({ status: BrokerOrderStatus.TRADED, averagePrice: new Money("100.5") });
    expect(await a.findOrder(placed.correlationId)).toMatchObject({ status: BrokerOrderStatus.TRADED });
  });

  it("refuses an order past its send deadline and writes nothing", async () => {
    const placed = order({ sendDeadlineMs: nowMs - 1 });
    await expect(b.placeExitOrder(placed, signal())).rejects.toMatchObject({ code: "deadline-passed" });
    expect(await a.findOrder(placed.correlationId)).toBeUndefined();
  });
});
