/**
 * Exits through the Dhan router against the Dhan simulator, with
 * tradingcore consuming the simulator's order update and market feeds
 * itself. The simulator runs on a manual clock: an order changes state only
 * when a test moves it, and the exit's own look-ups (one after the order is
 * accepted, then a minute apart) see it before it changes, so whatever settles
 * an exit here came over the order update feed (or, after an outage, the
 * look-ups made on reconnecting). The feed's `applied` count says so.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExitStatus, PriceSource, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { DhanSimulator } from "../../src/dhan-sim/dhan-simulator.js";
import { ManualSimClock } from "../../src/dhan-sim/sim-clock.js";
import type { SimOrder } from "../../src/dhan-sim/sim-order-book.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter } from "../../src/router/dhan-router.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("ExecuteExit on Dhan, with the order update and market feeds", () => {
  const sim = new DhanSimulator({ clock: new ManualSimClock(), delays: { pendingAfterMs: 100, tradedAfterMs: 400 } });
  let server: TestServer;
  let nextSecurityId = 3000;

  beforeAll(async () => {
    await sim.start();
    const router = new DhanRouter({
      ...DEFAULT_DHAN_SETTINGS,
      baseUrl: sim.baseUrl,
      clientId: sim.account.clientId,
      accessToken: sim.account.accessToken,
    });
    server = await startTestServer({
      adapters: { router },
      config: {
        router: "dhan",
        dhanClientId: sim.account.clientId,
        dhanAccessToken: sim.account.accessToken,
        dhanOrderUpdateFeed: true,
        dhanOrderUpdateUrl: sim.orderUpdateUrl,
        dhanMarketFeed: true,
        dhanMarketFeedUrl: sim.marketFeedUrl,
        dhanMarketFeedRefreshMs: 100,
        routerTimeoutMs: 2_000,
        fillWaitMs: 30_000,
        fillPollIntervalMs: 60_000,
        reconcilerIntervalMs: 3_600_000,
        reconcilerGraceMs: 3_600_000,
      },
    });
    await vi.waitFor(() => expect(server.core.dhanFeeds?.orderUpdates?.connected && sim.orderFeed.clients === 1).toBe(true), {
      timeout: 10_000,
    });
  });
  afterAll(async () => {
    await server?.close();
    await sim.stop();
  });

  /** A LONG of 20 on an instrument of its own, so the test finds its order by security id. */
  async function register() {
    const orderNo = uniqueOrderNo("FEED");
    const securityId = String(nextSecurityId++);
    await server.exits.registerTracker({
      orderNo,
      segment: Segment.NSE_EQ,
      securityId,
      symbol: "SIM",
      side: Side.LONG,
      quantity: "20",
      entryPrice: "100",
    });
    return { orderNo, securityId };
  }

  /** Starts the exit and answers once the simulator holds its order. */
  async function exitPlaced(
    orderNo: string,
    securityId: string,
  ): Promise<{ answer: ReturnType<TestServer["exits"]["executeExit"]>; order: SimOrder }> {
    const answer = server.exits.executeExit({ orderNo, reason: "stop" });
    let order: SimOrder | undefined;
    await expect.poll(() => (order = sim.orders.all().find((placed) => placed.request.securityId === securityId))).toBeDefined();
    return { answer, order: order! };
  }

  const lookUpsOf = (order: SimOrder) =>
    sim.requests.filter((request) => request.method === "GET" && request.path.endsWith(order.request.correlationId)).length;

  const applied = () => server.core.dhanFeeds!.orderUpdates!.counters.applied;

  it("answers EXITED at the fill price the order update feed reports, with no ApplyOrderUpdate call", async () => {
    const { orderNo, securityId } = await register();
    sim.tick("NSE_EQ", securityId, "1601.35");
    const { answer, order } = await exitPlaced(orderNo, securityId);
    const alertsBefore = sim.orderFeed.alertsSent;
    const appliedBefore = applied();
    sim.advance(100);
    sim.advance(400);
    const { result } = await answer;
    expect(result).toMatchObject({ status: ExitStatus.EXITED, exitPrice: "1601.35", priceSource: PriceSource.FILL });
    expect(result?.tracker).toMatchObject({ status: TrackerStatus.EXITED, exitedQuantity: "20" });
    expect(sim.orderFeed.alertsSent - alertsBefore).toBe(2);
    expect(applied() - appliedBefore).toBe(1);
    expect(order.request.transactionType).toBe("SELL");
  });

  it("answers ROUTER_REJECTED for an order rejected after acceptance, the tracker back to ACTIVE with nothing exited", async () => {
    const { orderNo, securityId } = await register();
    sim.nextOutcomes = ["reject"];
    const { answer } = await exitPlaced(orderNo, securityId);
    expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.EXITING);
    const appliedBefore = applied();
    sim.advance(100);
    const { result } = await answer;
    expect(result?.status).toBe(ExitStatus.ROUTER_REJECTED);
    const { tracker } = await server.exits.getTracker({ orderNo });
    expect(tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(tracker?.exitedQuantity ?? "0").toMatch(/^0?$/);
    expect(applied() - appliedBefore).toBe(1);
  });

  it("keeps what traded of an order partly filled then cancelled, and reopens the rest", async () => {
    const { orderNo, securityId } = await register();
    sim.tick("NSE_EQ", securityId, "99.5");
    sim.nextOutcomes = ["partial-then-cancel"];
    const { answer } = await exitPlaced(orderNo, securityId);
    sim.advance(500);
    await expect.poll(async () => (await server.exits.getTracker({ orderNo })).tracker?.exitedQuantity).toBe("10");
    expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.EXITING);
    sim.advance(400);
    const { result } = await answer;
    expect(result?.status).toBe(ExitStatus.ROUTER_REJECTED);
    expect(result?.tracker).toMatchObject({ status: TrackerStatus.ACTIVE, exitedQuantity: "10" });
  });

  it("recovers a fill sent while the order update feed was down, by looking the live exit orders up once it reconnects", async () => {
    const feed = server.core.dhanFeeds!.orderUpdates!;
    const { orderNo, securityId } = await register();
    const { answer, order } = await exitPlaced(orderNo, securityId);
    const opensBefore = feed.opens;
    sim.setOrderFeedDown(true);
    await expect.poll(() => feed.connected).toBe(false);
    const alertsBefore = sim.orderFeed.alertsSent;
    sim.advance(500);
    expect(sim.orderState(order.request.correlationId)?.status).toBe("TRADED");
    sim.setOrderFeedDown(false);
    const { result } = await answer;
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect(feed.opens).toBeGreaterThan(opensBefore);
    expect(sim.orderFeed.alertsSent).toBe(alertsBefore);
    expect(lookUpsOf(order)).toBeGreaterThan(0);
  });

  it("drops the alerts of the account's other orders (a strategy's entries) instead of keeping them for a tracker", async () => {
    const feed = server.core.dhanFeeds!.orderUpdates!;
    const foreignBefore = feed.counters.foreign;
    const parkedBefore = server.core.services.orderUpdates.parkedCount;
    const entry = {
      dhanClientId: sim.account.clientId,
      correlationId: "strategy-entry-1",
      transactionType: "BUY",
      exchangeSegment: "NSE_EQ",
    };
    const placed = await fetch(`${sim.baseUrl}/v2/orders`, {
      method: "POST",
      headers: { "access-token": sim.account.accessToken, "content-type": "application/json" },
      body: JSON.stringify({ ...entry, productType: "INTRADAY", orderType: "MARKET", validity: "DAY", securityId: "1333", quantity: 1 }),
    });
    expect(placed.status).toBe(200);
    sim.advance(500);
    await vi.waitFor(() => expect(feed.counters.foreign - foreignBefore).toBe(3));
    await feed.idle();
    expect(server.core.services.orderUpdates.parkedCount).toBe(parkedBefore);
  });

  it("brings the market feed's ticks for an open tracker's instrument to GetLtp, rounded to the tick", async () => {
    const { securityId } = await register();
    await expect.poll(() => sim.marketFeed.subscribed().has(`NSE_EQ:${securityId}`)).toBe(true);
    sim.tick("NSE_EQ", securityId, "2845.65");
    const ltp = async () => (await server.ticks.getLtp({ instrument: { segment: Segment.NSE_EQ, securityId } })).ltp;
    await expect.poll(async () => (await ltp())?.price).toBe("2845.65");
    expect((await ltp())?.source).toBe(PriceSource.MEMORY);
  });
});
