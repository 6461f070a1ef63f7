/**
 * ExecuteExit over gRPC through the Dhan router the composition root builds
 * from its settings (token file, rate limits, freeze quantities), against the
 * Dhan simulator: a token that expires mid-session, a position's product
 * type, an exit sliced above the freeze quantity, an order in a status nobody
 * recognises, and an order that was never placed answered with DH-907.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ExitStatus, ProductType, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { systemClock } from "../../src/exit/system-clock.js";
import { instantDhanSimulator, postedOrders } from "../support/dhan-sim.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("the Dhan account behind ExecuteExit", () => {
  const dhan = instantDhanSimulator({ accessToken: "token-1" });
  const dir = mkdtempSync(join(tmpdir(), "tradingcore-dhan-"));
  const tokenFile = join(dir, "access-token");
  const lines: string[] = [];
  let server: TestServer;

  beforeAll(async () => {
    await dhan.start();
  });
  beforeEach(async () => {
    lines.length = 0;
    dhan.account.renewToken("token-1");
    dhan.nextFaults = [];
    dhan.nextOutcomes = [];
    dhan.absentReply = "404";
    writeFileSync(tokenFile, "token-1\n");
    const log = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    server = await startTestServer({
      adapters: { router: undefined, log },
      config: {
        router: "dhan",
        dhanBaseUrl: dhan.baseUrl,
        dhanClientId: "1000000001",
        dhanAccessTokenFile: tokenFile,
        dhanFreezeQuantities: "NSE_FNO=1800",
        routerTimeoutMs: 2_000,
        fillWaitMs: 300,
        fillPollIntervalMs: 50,
      },
    });
  });
  afterEach(async () => {
    await server.close();
  });
  afterAll(async () => {
    await dhan.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function register(change: { quantity?: string; productType?: ProductType; segment?: Segment } = {}) {
    const orderNo = uniqueOrderNo("DHAN");
    await server.exits.registerTracker({
      orderNo,
      segment: change.segment ?? Segment.NSE_EQ,
      securityId: "1333",
      symbol: "HDFCBANK",
      side: Side.LONG,
      quantity: change.quantity ?? "20",
      entryPrice: "1600",
      ...(change.productType ? { productType: change.productType } : {}),
    });
    return orderNo;
  }
  const exit = async (orderNo: string) => (await server.exits.executeExit({ orderNo, reason: "stop" })).result!;
  const errorLogs = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 50);

  it("answers ROUTER_UNAVAILABLE, not ROUTER_REJECTED, once the token expires mid-session; later exits send nothing and write nothing; a reloaded token exits them", async () => {
    const before = await register();
    expect((await exit(before)).status).toBe(ExitStatus.EXITED);

    dhan.account.renewToken("token-2"); // Dhan no longer takes token-1
    const first = await register();
    const refused = await exit(first);
    expect(refused.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
    expect(refused.message).toContain("DH-901");
    expect(refused.tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(errorLogs().some((line) => /refused the credentials.*new access token/.test(line.msg))).toBe(true);

    const second = await register();
    const posts = dhan.orderPosts;
    const unsent = await exit(second);
    expect(unsent.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
    expect(dhan.orderPosts).toBe(posts);
    expect((await server.exits.getTracker({ orderNo: second })).tracker).toMatchObject({ status: TrackerStatus.ACTIVE, version: 1n });

    writeFileSync(tokenFile, "token-2\n");
    server.core.reloadCredentials("test: the token was renewed");
    for (const orderNo of [first, second]) expect((await exit(orderNo)).status).toBe(ExitStatus.EXITED);
    expect(dhan.requests.at(-1)?.token).toBe("token-2");
  });

  it("exits each position with the product type it was entered with, and refuses to register a bracket order position", async () => {
    const orderNo = await register({ productType: ProductType.MARGIN });
    expect((await server.exits.getTracker({ orderNo })).tracker?.productType).toBe(ProductType.MARGIN);
    expect((await exit(orderNo)).status).toBe(ExitStatus.EXITED);
    expect(postedOrders(dhan).at(-1)?.productType).toBe("MARGIN");
    const placed = dhan.orders.all().at(-1)!;
    expect(
      JSON.parse(
        await fetch(`${dhan.baseUrl}/v2/orders/${placed.orderId}`, { headers: { "access-token": "token-1" } }).then((r) => r.text()),
      ),
    ).toMatchObject({ productType: "MARGIN", orderStatus: "TRADED" });
    await expect(register({ productType: ProductType.BO })).rejects.toMatchObject({ message: expect.stringContaining("product_type BO") });
  });

  it("slices an exit above the freeze quantity into orders of their own, each placed once, and answers EXITED only for the whole", async () => {
    const orderNo = await register({ quantity: "4000", segment: Segment.NSE_FNO });
    const posts = dhan.orderPosts;
    const result = await exit(orderNo);
    expect(result.status).toBe(ExitStatus.EXITED);
    expect(result.tracker?.exitedQuantity).toBe("4000");
    const sent = postedOrders(dhan).slice(posts);
    expect(sent.map((body) => [body.correlationId, body.quantity])).toEqual([
      [`${result.correlationId}s1`, 1800],
      [`${result.correlationId}s2`, 1800],
      [`${result.correlationId}s3`, 400],
    ]);
    expect((await exit(orderNo)).status).toBe(ExitStatus.ALREADY_EXITED);
    expect(dhan.orderPosts).toBe(posts + 3);
  });

  it("keeps an order in an unrecognised status EXITING, alarmed at error level, never taken as filled", async () => {
    dhan.nextOutcomes = [{ status: "PARKED" }]; // a status Dhan never documented
    const orderNo = await register();
    const result = await exit(orderNo);
    expect(result.status).toBe(ExitStatus.AWAITING_FILL);
    expect(result.tracker?.status).toBe(TrackerStatus.EXITING);
    expect(errorLogs().some((line) => /status this router does not recognise/.test(line.msg))).toBe(true);
    expect(server.core.services.engine.lookupAlarms["unrecognised-status"]).toBeGreaterThanOrEqual(1);
  });

  it("takes DH-907 on a look-up as no such order", async () => {
    dhan.absentReply = "no-data";
    dhan.nextFaults = ["server-error"]; // the exit's outcome is unknown: it stays EXITING and is looked up
    const orderNo = await register();
    expect((await exit(orderNo)).status).toBe(ExitStatus.OUTCOME_UNKNOWN);
    const resolved = await server.core.services.engine.resolveIntent(orderNo);
    expect(resolved.message).toMatch(/does not know the order yet/);
  });
});

describe("a sliced exit one of whose slices never reached Dhan", () => {
  const dhan = instantDhanSimulator({ accessToken: "token-1" });
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs, sleep: systemClock.sleep };
  let server: TestServer;
  beforeAll(async () => {
    await dhan.start();
    server = await startTestServer({
      adapters: { router: undefined, clock },
      config: {
        router: "dhan",
        dhanBaseUrl: dhan.baseUrl,
        dhanClientId: "1000000001",
        dhanAccessToken: "token-1",
        dhanFreezeQuantities: "NSE_FNO=1800",
        routerTimeoutMs: 2_000,
        fillWaitMs: 200,
        fillPollIntervalMs: 50,
      },
    });
  });
  afterAll(async () => {
    await server.close();
    await dhan.stop();
  });

  it("keeps the position EXITING while the slice may still come, then reopens only what did not trade, and the next attempt exits the rest", async () => {
    const orderNo = uniqueOrderNo("DHAN-SLICE");
    await server.exits.registerTracker({
      orderNo,
      segment: Segment.NSE_FNO,
      securityId: "52175",
      symbol: "NIFTY",
      side: Side.LONG,
      quantity: "4000",
      entryPrice: "101.55",
    });
    dhan.nextFaults = ["none", "server-error"]; // the second slice fails; the third is never sent
    const first = (await server.exits.executeExit({ orderNo, reason: "stop" })).result!;
    expect(first.status).toBe(ExitStatus.AWAITING_FILL);
    expect(first.tracker).toMatchObject({ status: TrackerStatus.EXITING, exitedQuantity: "1800" });
    expect(dhan.orderPosts).toBe(2);

    // While the send deadline (plus its margin) has not passed, the missing slice may still arrive: nothing is concluded.
    const early = await server.core.services.engine.resolveIntent(orderNo);
    expect(early.tracker?.status).toBe(TrackerStatus.EXITING);

    offsetMs += 120_000; // past the send deadline, its margin and the unknown-order grace
    const resolved = await server.core.services.engine.resolveIntent(orderNo);
    expect(resolved.status).toBe(ExitStatus.ROUTER_REJECTED);
    expect(resolved.tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(resolved.tracker?.exitedQuantity.toFixed()).toBe("1800");

    const rest = (await server.exits.executeExit({ orderNo, reason: "stop" })).result!;
    expect(rest.status).toBe(ExitStatus.EXITED);
    expect(rest.tracker?.exitedQuantity).toBe("4000");
    expect(postedOrders(dhan).map((body) => body.quantity)).toEqual([1800, 1800, 1800, 400]);
    expect(dhan.placedOrders).toBe(3);
  });
});

describe("an account whose order budget is used up", () => {
  const dhan = instantDhanSimulator({ accessToken: "token-1" });
  let server: TestServer;
  beforeAll(async () => {
    await dhan.start();
    server = await startTestServer({
      adapters: { router: undefined },
      config: {
        router: "dhan",
        dhanBaseUrl: dhan.baseUrl,
        dhanClientId: "1000000001",
        dhanAccessToken: "token-1",
        dhanOrderRateLimits: "1/m",
        routerTimeoutMs: 2_000,
      },
    });
  });
  afterAll(async () => {
    await server.close();
    await dhan.stop();
  });

  it("answers not placed without waiting past the send deadline, then fails exits fast, before any intent, until the window opens", async () => {
    const orderNos = [uniqueOrderNo("BUDGET"), uniqueOrderNo("BUDGET"), uniqueOrderNo("BUDGET")];
    for (const orderNo of orderNos) {
      await server.exits.registerTracker({
        orderNo,
        segment: Segment.NSE_EQ,
        securityId: "1333",
        symbol: "HDFCBANK",
        side: Side.LONG,
        quantity: "1",
        entryPrice: "1600",
      });
    }
    const exit = async (orderNo: string) => (await server.exits.executeExit({ orderNo, reason: "stop" })).result!;
    expect((await exit(orderNos[0]!)).status).toBe(ExitStatus.EXITED);
    const second = await exit(orderNos[1]!);
    expect(second.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
    expect(second.message).toMatch(/rate limit.*not placed/);
    expect(second.tracker?.status).toBe(TrackerStatus.ACTIVE);
    const third = await exit(orderNos[2]!);
    expect(third.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
    expect(third.message).toMatch(/order rate limit is used up; next order slot in \d+ ms/);
    expect((await server.exits.getTracker({ orderNo: orderNos[2]! })).tracker?.version).toBe(1n);
    expect(dhan.orderPosts).toBe(1);
  });
});
