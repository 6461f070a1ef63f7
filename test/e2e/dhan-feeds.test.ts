/**
 * Exits through the Dhan router against the Dhan simulator, with
 * tradingcore consuming the simulator's order update and market feeds
 * itself. The simulator runs on a manual clock: an order changes state only
 * when a test moves it, and the exit's own look-ups (one after the order is
 * accepted, then a minute apart) see it before it changes, so whatever settles
 * an exit here came over the order update feed (or, after an outage, the
 * look-ups made on reconnecting). The feed's `applied` count says so.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExitStatus, PriceSource, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { DhanSimulator } from "../../src/dhan-sim/dhan-simulator.js";
import { ManualSimClock } from "../../src/dhan-sim/sim-clock.js";
import type { SimOrder } from "../../src/dhan-sim/sim-order-book.js";
import { dhanRouterOn } from "../support/dhan-sim.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("ExecuteExit on Dhan, with the order update and market feeds", () => {
  const sim = new DhanSimulator({ clock: new ManualSimClock(), delays: { pendingAfterMs: 100, tradedAfterMs: 400 } });
  let server: TestServer;
  let nextSecurityId = 3000;

  beforeAll(async () => {
    await sim.start();
    const router = dhanRouterOn(sim);
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

describe("ExecuteExit on Dhan as the settings build it, with the order update and market feeds", () => {
  // The router, its token file and its freeze quantities come from the composition root, as in production.
  const sim = new DhanSimulator({
    clock: new ManualSimClock(),
    accessToken: "token-1",
    delays: { pendingAfterMs: 100, tradedAfterMs: 400 },
  });
  const dir = mkdtempSync(join(tmpdir(), "tradingcore-dhan-feeds-"));
  const tokenFile = join(dir, "access-token");
  let server: TestServer;
  let nextSecurityId = 4000;

  beforeAll(async () => {
    await sim.start();
    writeFileSync(tokenFile, "token-1\n");
    server = await startTestServer({
      adapters: { router: undefined },
      config: {
        router: "dhan",
        dhanBaseUrl: sim.baseUrl,
        dhanClientId: sim.account.clientId,
        dhanAccessTokenFile: tokenFile,
        dhanFreezeQuantities: "NSE_FNO=1800",
        dhanOrderUpdateFeed: true,
        dhanOrderUpdateUrl: sim.orderUpdateUrl,
        dhanMarketFeed: true,
        dhanMarketFeedUrl: sim.marketFeedUrl,
        dhanMarketFeedRefreshMs: 100,
        dhanFeedReconnectMaxMs: 500,
        routerTimeoutMs: 2_000,
        fillWaitMs: 30_000,
        fillPollIntervalMs: 60_000,
        reconcilerIntervalMs: 3_600_000,
        reconcilerGraceMs: 3_600_000,
      },
    });
    await vi.waitFor(() => expect(feedsConnected()).toBe(true), { timeout: 10_000 });
  });
  afterAll(async () => {
    await server?.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const feeds = () => server.core.dhanFeeds!;
  const feedsConnected = () =>
    feeds().orderUpdates!.connected && feeds().market!.connected && sim.orderFeed.clients === 1 && sim.marketFeed.clients === 1;

  async function register(segment: Segment, quantity: string) {
    const orderNo = uniqueOrderNo("FEED-CFG");
    const securityId = String(nextSecurityId++);
    await server.exits.registerTracker({ orderNo, segment, securityId, symbol: "SIM", side: Side.LONG, quantity, entryPrice: "100" });
    return { orderNo, securityId };
  }
  const ordersFor = (securityId: string) => sim.orders.all().filter((order) => order.request.securityId === securityId);

  it("answers EXITED for an exit sliced above the freeze quantity once the slices' alerts report every slice traded", async () => {
    const { orderNo, securityId } = await register(Segment.NSE_FNO, "4000");
    sim.tick("NSE_FNO", securityId, "212.4");
    const counters = feeds().orderUpdates!.counters;
    const before = { slices: counters.slices, applied: counters.applied, foreign: counters.foreign };
    const answer = server.exits.executeExit({ orderNo, reason: "stop" });
    await expect.poll(() => ordersFor(securityId).length).toBe(3);
    expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.EXITING);
    sim.advance(100);
    sim.advance(400);
    // The fill wait polls once a minute and waits 30 s: only the slices' alerts can settle it this soon.
    const { result } = await answer;
    expect(result).toMatchObject({ status: ExitStatus.EXITED, exitPrice: "212.4", priceSource: PriceSource.FILL });
    expect(result?.tracker).toMatchObject({ status: TrackerStatus.EXITED, exitedQuantity: "4000" });
    expect(ordersFor(securityId).map((order) => [order.request.correlationId, order.request.quantity])).toEqual([
      [`${result?.correlationId}s1`, 1800],
      [`${result?.correlationId}s2`, 1800],
      [`${result?.correlationId}s3`, 400],
    ]);
    expect(counters.slices - before.slices).toBeGreaterThanOrEqual(6); // at least each slice's PENDING and TRADED
    expect(counters.foreign).toBe(before.foreign);
    expect(counters.applied).toBe(before.applied);
  });

  it("answers ROUTER_UNAVAILABLE once the token expires mid-session, and after the renewed token is loaded the feeds log in with it and an exit is settled over them", async () => {
    const refused = await register(Segment.NSE_EQ, "20");
    sim.account.renewToken("token-2"); // renewed elsewhere: Dhan no longer takes token-1
    const unavailable = (await server.exits.executeExit({ orderNo: refused.orderNo, reason: "stop" })).result;
    expect(unavailable?.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
    expect(unavailable?.message).toContain("DH-901");
    expect((await server.exits.getTracker({ orderNo: refused.orderNo })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(ordersFor(refused.securityId)).toHaveLength(0);

    writeFileSync(tokenFile, "token-2\n");
    server.core.reloadCredentials("test: the token was renewed");
    // Both feeds lose their connections; the simulator admits a login only with token-2 now.
    const opens = { orders: feeds().orderUpdates!.opens, market: feeds().market!.opens };
    sim.setOrderFeedDown(true);
    sim.setMarketFeedDown(true);
    await expect.poll(() => feeds().orderUpdates!.connected || feeds().market!.connected).toBe(false);
    sim.setOrderFeedDown(false);
    sim.setMarketFeedDown(false);
    await vi.waitFor(() => expect(feedsConnected()).toBe(true), { timeout: 10_000 });
    expect(feeds().orderUpdates!.opens).toBeGreaterThan(opens.orders);
    expect(feeds().market!.opens).toBeGreaterThan(opens.market);

    const appliedBefore = feeds().orderUpdates!.counters.applied;
    const answer = server.exits.executeExit({ orderNo: refused.orderNo, reason: "stop" });
    await expect.poll(() => ordersFor(refused.securityId).length).toBe(1);
    sim.advance(500);
    const { result } = await answer;
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect(feeds().orderUpdates!.counters.applied - appliedBefore).toBe(1);
    expect(sim.requests.at(-1)?.token).toBe("token-2");
  });
});
