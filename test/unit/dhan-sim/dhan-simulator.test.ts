import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { DhanSimulator } from "../../../src/dhan-sim/dhan-simulator.js";
import { ManualSimClock } from "../../../src/dhan-sim/sim-clock.js";
import { istToEpochMs, orderFeedLogin } from "../../../src/router/dhan-order-alert.js";
import { decodeFeedPacket, subscriptionMessages } from "../../../src/ticks/dhan-feed-packets.js";

const TOKEN = "sim-access-token";
let sim: DhanSimulator;
let clock: ManualSimClock;
const sockets: WebSocket[] = [];

async function startSim(options: ConstructorParameters<typeof DhanSimulator>[0] = {}) {
  clock = new ManualSimClock();
  sim = await new DhanSimulator({ clock, delays: { pendingAfterMs: 100, tradedAfterMs: 400 }, ...options }).start();
  return sim;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await sim?.stop();
});

async function call(method: string, path: string, body?: unknown, token = TOKEN) {
  const response = await fetch(`${sim.baseUrl}${path}`, {
    method,
    headers: { "access-token": token, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const order = (correlationId: string, quantity = 20) => ({
  dhanClientId: "1000000001",
  correlationId,
  transactionType: "SELL",
  exchangeSegment: "NSE_EQ",
  productType: "INTRADAY",
  orderType: "MARKET",
  validity: "DAY",
  securityId: "1333",
  quantity,
  price: 0,
});

function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => socket.once("message", (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

async function loggedInOrderFeed(): Promise<WebSocket> {
  const socket = await open(sim.orderUpdateUrl);
  socket.send(orderFeedLogin("1000000001", TOKEN));
  await expect.poll(() => sim.orderFeed.clients).toBe(1);
  return socket;
}

describe("the Dhan simulator's order API", () => {
  it("answers TRANSIT to the POST, then shows PENDING and TRADED as its clock passes each step", async () => {
    await startSim({ defaultPrice: "1601.35" });
    const placed = await call("POST", "/v2/orders", order("corr-1"));
    expect(placed).toMatchObject({ status: 200, json: { orderStatus: "TRANSIT" } });
    const byCorrelation = () => call("GET", "/v2/orders/external/corr-1");
    expect((await byCorrelation()).json).toMatchObject({ orderStatus: "TRANSIT", filledQty: 0 });
    sim.advance(100);
    expect((await byCorrelation()).json).toMatchObject({ orderStatus: "PENDING", filledQty: 0, remainingQuantity: 20 });
    sim.advance(400);
    const traded = await byCorrelation();
    expect(traded.json).toMatchObject({ orderStatus: "TRADED", filledQty: 20, remainingQuantity: 0, correlationId: "corr-1" });
    expect((await call("GET", `/v2/orders/${String(placed.json.orderId)}`)).json).toMatchObject({ orderStatus: "TRADED" });
  });

  it("writes the average price as a raw JSON number, digit for digit", async () => {
    await startSim({ defaultPrice: "1601.35" });
    sim.nextOutcomes = ["instant-fill"];
    await call("POST", "/v2/orders", order("corr-raw"));
    const text = await (await fetch(`${sim.baseUrl}/v2/orders/external/corr-raw`, { headers: { "access-token": TOKEN } })).text();
    expect(text).toContain('"averageTradedPrice":1601.35,');
  });

  it("rejects an accepted order after acceptance, and cancels the rest of a partly filled one", async () => {
    await startSim();
    sim.nextOutcomes = ["reject", "partial-then-cancel"];
    await call("POST", "/v2/orders", order("corr-r"));
    await call("POST", "/v2/orders", order("corr-p", 21));
    sim.advance(500);
    expect((await call("GET", "/v2/orders/external/corr-r")).json).toMatchObject({ orderStatus: "REJECTED", filledQty: 0 });
    expect((await call("GET", "/v2/orders/external/corr-p")).json).toMatchObject({ orderStatus: "PART_TRADED", filledQty: 10 });
    sim.advance(400);
    expect((await call("GET", "/v2/orders/external/corr-p")).json).toMatchObject({
      orderStatus: "CANCELLED",
      filledQty: 10,
      remainingQuantity: 11,
    });
  });

  it("answers DH-901 in Dhan's error body once the token has expired, and accepts a renewed one", async () => {
    await startSim({ tokenTtlMs: 86_400_000 });
    expect((await call("POST", "/v2/orders", order("before"))).status).toBe(200);
    sim.advance(86_400_000);
    const expired = await call("POST", "/v2/orders", order("after"));
    expect(expired).toEqual({
      status: 401,
      json: { errorType: "Invalid_Authentication", errorCode: "DH-901", errorMessage: expect.stringContaining("invalid or expired") },
    });
    expect(sim.orderState("after")).toBeUndefined();
    sim.account.renewToken("renewed");
    expect((await call("POST", "/v2/orders", order("renewed"), "renewed")).status).toBe(200);
  });

  it("answers DH-904 past the per-second limit, places nothing for it, and admits orders again in the next second", async () => {
    await startSim({ rateLimits: { perSecond: 3 } });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await call("POST", "/v2/orders", order(`rl-${i}`))).json);
    expect(answers.map((answer) => answer.errorCode ?? "ok")).toEqual(["ok", "ok", "ok", "DH-904", "DH-904"]);
    expect(sim.placedOrders).toBe(3);
    sim.advance(1_000);
    expect((await call("POST", "/v2/orders", order("rl-5"))).status).toBe(200);
  });

  it("meets the faults asked for: a DH-909 after placing the order, and a connection cut after placing it", async () => {
    await startSim();
    sim.nextFaults = ["network-error-after-accept", "accept-then-drop"];
    expect((await call("POST", "/v2/orders", order("f-1"))).json).toMatchObject({ errorCode: "DH-909" });
    await expect(call("POST", "/v2/orders", order("f-2"))).rejects.toThrow();
    expect(sim.orderState("f-1")?.status).toBe("TRANSIT");
    expect(sim.orderState("f-2")?.status).toBe("TRANSIT");
  });

  it("draws the same faults for the same seed", async () => {
    const draws = async () => {
      await startSim({ seed: 7, faultRate: 0.5 });
      const codes = [];
      for (let i = 0; i < 12; i++) {
        codes.push(
          await call("POST", "/v2/orders", order(`s-${i}`)).then(
            (answer) => String(answer.json.errorCode ?? answer.json.orderStatus),
            () => "dropped",
          ),
        );
        sim.advance(1_000);
      }
      await sim.stop();
      return codes;
    };
    const first = await draws();
    expect(await draws()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  it("counts the POSTs it refused for the account's limits, apart from faults asked for", async () => {
    await startSim({ rateLimits: { perSecond: 1 } });
    sim.nextFaults = ["none", "rate-limit"];
    await call("POST", "/v2/orders", order("c-1"));
    sim.advance(1_000);
    expect((await call("POST", "/v2/orders", order("c-2"))).json.errorCode).toBe("DH-904");
    expect((await call("POST", "/v2/orders", order("c-3"))).json.errorCode).toBe("DH-904");
    expect({ posts: sim.orderPosts, placed: sim.placedOrders, overLimits: sim.rateLimitedPosts }).toEqual({
      posts: 3,
      placed: 1,
      overLimits: 1,
    });
  });

  it("answers a look-up of an order it does not have with 404 DH-906, or as told: 400 DH-907 or a 200 {}", async () => {
    await startSim();
    expect(await call("GET", "/v2/orders/external/nothing")).toMatchObject({ status: 404, json: { errorCode: "DH-906" } });
    sim.absentReply = "no-data";
    expect(await call("GET", "/v2/orders/external/nothing")).toMatchObject({ status: 400, json: { errorCode: "DH-907" } });
    sim.absentReply = "empty-object";
    expect(await call("GET", "/v2/orders/nothing")).toEqual({ status: 200, json: {} });
  });

  it("holds an order in a status of the test's choosing, on its look-ups and its alerts, with nothing traded", async () => {
    await startSim();
    const socket = await loggedInOrderFeed();
    const statuses: unknown[] = [];
    socket.on("message", (data) => statuses.push((JSON.parse(String(data)) as { Data: { Status: unknown } }).Data.Status));
    sim.nextOutcomes = [{ status: "TRIGGERED" }];
    expect((await call("POST", "/v2/orders", order("super-1"))).json.orderStatus).toBe("TRANSIT");
    sim.advance(500);
    expect((await call("GET", "/v2/orders/external/super-1")).json).toMatchObject({ orderStatus: "TRIGGERED", filledQty: 0 });
    await expect.poll(() => statuses).toEqual(["Transit", "Pending", "Triggered"]);
    sim.advance(60_000);
    expect(sim.orderState("super-1")?.status).toBe("TRIGGERED");
  });

  it("echoes the order's product type on its look-ups and its alerts", async () => {
    await startSim();
    const socket = await loggedInOrderFeed();
    const products: unknown[] = [];
    socket.on("message", (data) => products.push((JSON.parse(String(data)) as { Data: { Product: unknown } }).Data.Product));
    const placed = await call("POST", "/v2/orders", { ...order("margin-1"), productType: "MARGIN" });
    expect((await call("GET", `/v2/orders/${String(placed.json.orderId)}`)).json.productType).toBe("MARGIN");
    await expect.poll(() => products).toEqual(["M"]);
  });

  it("is steered over its control API", async () => {
    await startSim();
    const control = (path: string, body: unknown) => fetch(`${sim.baseUrl}/sim/${path}`, { method: "POST", body: JSON.stringify(body) });
    expect((await control("next-outcomes", { outcomes: ["reject"] })).status).toBe(200);
    expect((await control("next-outcomes", { outcomes: ["explode"] })).status).toBe(400);
    expect((await control("next-outcomes", { outcomes: [{ status: "lower case" }] })).status).toBe(400);
    expect((await control("absent-reply", { reply: "no-data" })).status).toBe(200);
    expect(sim.absentReply).toBe("no-data");
    expect((await control("absent-reply", { reply: "teapot" })).status).toBe(400);
    await call("POST", "/v2/orders", order("ctl"));
    await control("advance", { ms: 100 });
    expect(sim.orderState("ctl")?.status).toBe("REJECTED");
    await control("expire-token", {});
    expect((await call("GET", "/v2/orders/external/ctl")).json.errorCode).toBe("DH-901");
  });
});

describe("the Dhan simulator's order update feed", () => {
  it("pushes one order_alert per state change to a client logged in with MsgCode 42, times in IST without a zone", async () => {
    await startSim({ defaultPrice: "101.05" });
    const socket = await loggedInOrderFeed();
    const alerts: Record<string, unknown>[] = [];
    socket.on("message", (data) => alerts.push(JSON.parse(String(data)) as Record<string, unknown>));
    await call("POST", "/v2/orders", order("alert-1"));
    sim.advance(500);
    await expect.poll(() => alerts.length).toBe(3);
    expect(alerts.map((alert) => (alert.Data as Record<string, unknown>).Status)).toEqual(["Transit", "Pending", "Traded"]);
    const traded = alerts[2] as { Type: string; Data: Record<string, unknown> };
    expect(traded.Type).toBe("order_alert");
    expect(traded.Data).toMatchObject({
      CorrelationId: "alert-1",
      TxnType: "S",
      Product: "I",
      TradedQty: 20,
      AvgTradedPrice: 101.05,
      Quantity: 20,
    });
    expect(istToEpochMs(String(traded.Data.LastUpdatedTime))).toBe(Math.floor(clock.now() / 1000) * 1000);
  });

  it("closes a socket that logs in with a wrong token, and sends it nothing", async () => {
    await startSim();
    const socket = await open(sim.orderUpdateUrl);
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(orderFeedLogin("1000000001", "wrong"));
    expect(await closed).toBe(1008);
    expect(sim.orderFeed.clients).toBe(0);
  });

  it("loses the alerts of an outage and refuses connections until it ends", async () => {
    await startSim();
    await loggedInOrderFeed();
    sim.setOrderFeedDown(true);
    await expect.poll(() => sim.orderFeed.clients).toBe(0);
    await call("POST", "/v2/orders", order("missed"));
    await expect(open(sim.orderUpdateUrl)).rejects.toThrow(/401/);
    expect(sim.orderFeed.alertsSent).toBe(0);
    sim.setOrderFeedDown(false);
    await loggedInOrderFeed();
  });
});

describe("the Dhan simulator's market feed", () => {
  const feedUrl = (token = TOKEN) => `${sim.marketFeedUrl}?version=2&token=${token}&clientId=1000000001&authType=2`;

  it("refuses a connection with a wrong token at the upgrade", async () => {
    await startSim();
    await expect(open(feedUrl("wrong"))).rejects.toThrow(/401/);
  });

  it("sends a subscribed instrument's ticks as 16-byte little-endian ticker packets", async () => {
    await startSim();
    const socket = await open(feedUrl());
    for (const message of subscriptionMessages(15, [{ segment: Segment.NSE_EQ, securityId: "1333" }])) socket.send(message);
    await expect.poll(() => sim.marketFeed.subscribed().has("NSE_EQ:1333")).toBe(true);
    const received = nextMessage(socket);
    sim.tick("NSE_EQ", "1333", "1601.35");
    sim.tick("NSE_EQ", "9999", "10");
    const { data, isBinary } = await received;
    expect(isBinary).toBe(true);
    expect(data.length).toBe(16);
    const packet = decodeFeedPacket(data);
    expect(packet).toMatchObject({
      kind: "ticker",
      segment: Segment.NSE_EQ,
      securityId: "1333",
      tradeTimeSec: Math.floor(clock.now() / 1000),
    });
    expect(packet.kind === "ticker" && packet.ltp).toBeCloseTo(1601.35, 2);
    expect(sim.marketFeed.ticksSent).toBe(1);
  });

  it("ignores a subscription of more than 100 instruments in one message", async () => {
    await startSim();
    const socket = await open(feedUrl());
    const list = Array.from({ length: 101 }, (_, i) => ({ ExchangeSegment: "NSE_EQ", SecurityId: String(i + 1) }));
    socket.send(JSON.stringify({ RequestCode: 15, InstrumentCount: 101, InstrumentList: list }));
    socket.send(subscriptionMessages(15, [{ segment: Segment.NSE_FNO, securityId: "52175" }])[0]!);
    await expect.poll(() => sim.marketFeed.subscribed().has("NSE_FNO:52175")).toBe(true);
    expect(sim.marketFeed.subscribed().size).toBe(1);
  });

  it("pings every 10 s of its clock and drops a client that has been silent for 40 s", async () => {
    await startSim();
    const socket = new WebSocket(feedUrl(), { autoPong: false });
    sockets.push(socket);
    await new Promise((resolve) => socket.once("open", resolve));
    let pings = 0;
    socket.on("ping", () => pings++);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    for (let second = 0; second < 40; second += 10) sim.advance(10_000);
    await expect.poll(() => pings).toBe(4);
    expect(sim.marketFeed.clients).toBe(1);
    sim.advance(1_000);
    await closed;
    await expect.poll(() => sim.marketFeed.clients).toBe(0);
  });
});
