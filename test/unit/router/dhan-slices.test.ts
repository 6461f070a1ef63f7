/** Freeze-quantity slicing: how an exit above the freeze limit goes out, and how its slices are followed as one order. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { BrokerOrder, ExitOrderRequest } from "../../../src/exit/ports.js";
import { classifyRouterReply } from "../../../src/exit/router-reply.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter } from "../../../src/router/dhan-router.js";
import { attemptOfSlice, sliceCorrelationId } from "../../../src/domain/exit-correlation-id.js";
import { combineSlices, freezeLimitOf, parseFreezeLimits, sliceQuantities } from "../../../src/router/dhan-slices.js";
import { MemoryOrderRateLimiter, parseRateWindows } from "../../../src/router/order-rate-limit.js";
import { instantDhanSimulator, postedOrders } from "../../support/dhan-sim.js";
import { ManualClock } from "../../support/manual-clock.js";

const m = (text: string) => new Money(text);
const slice = (orderId: string, status: BrokerOrderStatus, quantity: string, traded: string, price?: string): BrokerOrder => ({
  orderId,
  correlationId: orderId,
  status,
  quantity: m(quantity),
  tradedQuantity: m(traded),
  ...(price ? { averagePrice: m(price) } : {}),
});

describe("freeze limits and slice quantities", () => {
  it("reads limits per segment and per instrument, the instrument's winning", () => {
    const limits = parseFreezeLimits("NSE_FNO=1800, NSE_FNO:35001=900");
    expect(freezeLimitOf(limits, Segment.NSE_FNO, "52175")?.toFixed()).toBe("1800");
    expect(freezeLimitOf(limits, Segment.NSE_FNO, "35001")?.toFixed()).toBe("900");
    expect(freezeLimitOf(limits, Segment.NSE_EQ, "1333")).toBeUndefined();
    expect(() => parseFreezeLimits("NSE_FO=1800")).toThrow(/"NSE_FO=1800"/);
    expect(() => parseFreezeLimits("NSE_FNO=0")).toThrow(/at least 1/);
  });

  it("cuts freeze-sized slices, then the rest; at or under the limit, one order", () => {
    expect(sliceQuantities(m("4000"), m("1800")).map(String)).toEqual(["1800", "1800", "400"]);
    expect(sliceQuantities(m("3600"), m("1800")).map(String)).toEqual(["1800", "1800"]);
    expect(sliceQuantities(m("1800"), m("1800")).map(String)).toEqual(["1800"]);
    expect(sliceQuantities(m("4000"), undefined).map(String)).toEqual(["4000"]);
  });

  it("derives each slice's correlation id from the attempt's, never the attempt's own, within Dhan's 25 characters, and back", () => {
    const attempt = "x0123456789abcdef-12";
    expect(sliceCorrelationId(attempt, 0)).toBe(`${attempt}s1`);
    expect(sliceCorrelationId(attempt, 49)).toBe(`${attempt}s50`);
    expect(sliceCorrelationId(attempt, 49).length).toBeLessThanOrEqual(25);
    expect(attemptOfSlice(`${attempt}s3`)).toBe(attempt);
    expect(attemptOfSlice(attempt)).toBeUndefined();
  });
});

describe("combineSlices", () => {
  it("is TRADED only once every slice of the whole quantity traded, at the quantity-weighted average price", () => {
    const whole = combineSlices(
      "c",
      [slice("1", BrokerOrderStatus.TRADED, "1800", "1800", "100"), slice("2", BrokerOrderStatus.TRADED, "200", "200", "110")],
      m("2000"),
    );
    expect(whole).toMatchObject({ status: BrokerOrderStatus.TRADED, orderId: "1", correlationId: "c" });
    expect(whole.tradedQuantity.toFixed()).toBe("2000");
    expect(whole.averagePrice?.toFixed()).toBe("101");
  });

  it("stays live while a slice is live, or while part of the quantity was not found at the broker", () => {
    const live = combineSlices(
      "c",
      [slice("1", BrokerOrderStatus.TRADED, "1800", "1800", "100"), slice("2", BrokerOrderStatus.PENDING, "200", "0")],
      m("2000"),
    );
    expect(live.status).toBe(BrokerOrderStatus.PART_TRADED);
    const missing = combineSlices("c", [slice("1", BrokerOrderStatus.TRADED, "1800", "1800", "100")], m("2000"));
    expect(missing.status).toBe(BrokerOrderStatus.PART_TRADED);
    expect(missing.quantity.toFixed()).toBe("2000");
    expect(missing.message).toContain("200 of 2000 not found");
  });

  it("takes a slice still missing once no process may send it as never placed: the rest of the quantity is refused, what traded kept", () => {
    const found = [slice("1", BrokerOrderStatus.TRADED, "1800", "1800", "100")];
    const over = combineSlices("c", found, m("2000"), true);
    expect(over.status).toBe(BrokerOrderStatus.REJECTED);
    expect(over.tradedQuantity.toFixed()).toBe("1800");
    expect(over.message).toContain("never placed");
    const stillLive = [slice("1", BrokerOrderStatus.PENDING, "1800", "0")];
    expect(combineSlices("c", stillLive, m("2000"), true).status).toBe(BrokerOrderStatus.PENDING);
  });

  it("is refused, with what traded kept, once every slice is final and one was refused", () => {
    const refused = combineSlices(
      "c",
      [slice("1", BrokerOrderStatus.TRADED, "1800", "1800", "100"), slice("2", BrokerOrderStatus.REJECTED, "200", "0")],
      m("2000"),
    );
    expect(refused.status).toBe(BrokerOrderStatus.REJECTED);
    expect(refused.tradedQuantity.toFixed()).toBe("1800");
  });

  it("is unrecognised when one slice's status is", () => {
    expect(
      combineSlices(
        "c",
        [slice("1", BrokerOrderStatus.TRADED, "1800", "1800"), slice("2", BrokerOrderStatus.UNSPECIFIED, "200", "0")],
        m("2000"),
      ).status,
    ).toBe(BrokerOrderStatus.UNSPECIFIED);
  });
});

describe("DhanRouter slicing an exit above the freeze quantity", () => {
  const dhan = instantDhanSimulator();
  let clock: ManualClock;
  const router = (limits = "NSE_FNO=1800", rate = "25/s") =>
    new DhanRouter(
      {
        ...DEFAULT_DHAN_SETTINGS,
        baseUrl: dhan.baseUrl,
        clientId: "1000000001",
        accessToken: dhan.account.accessToken,
        freezeLimits: parseFreezeLimits(limits),
        rateLimiter: new MemoryOrderRateLimiter(parseRateWindows(rate)),
      },
      clock,
    );
  const order = (correlationId: string, quantity: string): ExitOrderRequest => ({
    correlationId,
    orderNo: "E-1",
    segment: Segment.NSE_FNO,
    securityId: "52175",
    symbol: "NIFTY",
    transactionType: "SELL",
    quantity: m(quantity),
    paper: false,
    sendDeadlineMs: clock.now() + 5_000,
  });
  beforeAll(async () => {
    await dhan.start();
  });
  beforeEach(() => {
    clock = new ManualClock(Date.now());
    dhan.nextFaults = [];
    dhan.nextOutcomes = [];
  });
  afterAll(() => dhan.stop());

  it("places one order per slice, each once, with its own correlation id, and follows them to the whole fill", async () => {
    const dhanRouter = router();
    const exit = order("x00000000000000aa-1", "4000");
    await dhanRouter.reserveSend(exit, AbortSignal.timeout(5_000));
    const reply = await dhanRouter.placeExitOrder(exit, AbortSignal.timeout(5_000));
    expect(classifyRouterReply(reply).kind).toBe("accepted");
    const sent = postedOrders(dhan).slice(-3);
    expect(sent.map((body) => [body.correlationId, body.quantity])).toEqual([
      ["x00000000000000aa-1s1", 1800],
      ["x00000000000000aa-1s2", 1800],
      ["x00000000000000aa-1s3", 400],
    ]);
    const found = await dhanRouter.findOrder(exit.correlationId, undefined, { quantity: m("4000") });
    expect(found).toMatchObject({ status: BrokerOrderStatus.TRADED, correlationId: exit.correlationId });
    expect(found?.tradedQuantity.toFixed()).toBe("4000");
  });

  it("takes a rate-limit slot per slice before the first goes out", async () => {
    const dhanRouter = router("NSE_FNO=1800", "2/s");
    await dhanRouter.reserveSend(order("x00000000000000ab-1", "4000"), AbortSignal.timeout(5_000));
    expect(clock.sleeps).toEqual([1_000]);
  });

  it("keeps the exit live while a slice the first ones promised is missing at the broker", async () => {
    const dhanRouter = router();
    const exit = order("x00000000000000ac-1", "4000");
    dhan.nextFaults = ["none", "none", "server-error"]; // the third slice never reaches the book
    await dhanRouter.placeExitOrder(exit, AbortSignal.timeout(5_000));
    expect(dhan.orders.byCorrelation("x00000000000000ac-1s3")).toBeUndefined();
    const found = await dhanRouter.findOrder(exit.correlationId, undefined, { quantity: m("4000") });
    expect(found?.status).toBe(BrokerOrderStatus.PART_TRADED);
    expect(found?.tradedQuantity.toFixed()).toBe("3600");
    const settled = await dhanRouter.findOrder(exit.correlationId, undefined, { quantity: m("4000"), sendingOver: true });
    expect(settled?.status).toBe(BrokerOrderStatus.REJECTED);
    expect(settled?.tradedQuantity.toFixed()).toBe("3600");
  });

  it("answers a refused first slice as the order's refusal, and sends no other slice", async () => {
    const dhanRouter = router();
    const posts = dhan.orderPosts;
    dhan.nextFaults = ["reject"];
    const reply = await dhanRouter.placeExitOrder(order("x00000000000000ad-1", "4000"), AbortSignal.timeout(5_000));
    expect(classifyRouterReply(reply).kind).toBe("rejected");
    expect(dhan.orderPosts).toBe(posts + 1);
  });
});
