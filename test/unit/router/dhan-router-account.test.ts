/**
 * The Dhan router and the account behind it: refused credentials, a token
 * that expires, the order rate limits, the product type of each position,
 * every documented order status, and what "no such order" looks like.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProductType, Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import { isTradingCoreError } from "../../../src/domain/trading-core-error.js";
import type { ExitOrderRequest } from "../../../src/exit/ports.js";
import { classifyRouterReply } from "../../../src/exit/router-reply.js";
import type { AccessTokenSource } from "../../../src/router/dhan-access-token.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter, type DhanRouterSettings } from "../../../src/router/dhan-router.js";
import { brokerOrderStatusOf } from "../../../src/router/dhan-wire.js";
import { MemoryOrderRateLimiter, parseRateWindows } from "../../../src/router/order-rate-limit.js";
import { instantDhanSimulator } from "../../support/dhan-sim.js";
import { ManualClock } from "../../support/manual-clock.js";

const signal = () => AbortSignal.timeout(5_000);

describe("DhanRouter and its account", () => {
  const dhan = instantDhanSimulator({ accessToken: "token-1" });
  let clock: ManualClock;
  let token: { current: string; version: number; expiresAtMs: number | undefined };
  const order = (correlationId: string, change: Partial<ExitOrderRequest> = {}): ExitOrderRequest => ({
    correlationId,
    orderNo: "E-1",
    segment: Segment.NSE_FNO,
    securityId: "52175",
    symbol: "NIFTY",
    transactionType: "SELL",
    quantity: new Money("75"),
    paper: false,
    sendDeadlineMs: clock.now() + 5_000,
    ...change,
  });
  const routerWith = (change: Partial<DhanRouterSettings> = {}) =>
    new DhanRouter(
      { ...DEFAULT_DHAN_SETTINGS, baseUrl: dhan.baseUrl, clientId: "1000000001", accessToken: token as AccessTokenSource, ...change },
      clock,
    );
  beforeAll(async () => {
    await dhan.start();
  });
  beforeEach(() => {
    clock = new ManualClock(Date.now());
    dhan.account.renewToken("token-1");
    token = { current: "token-1", version: 1, expiresAtMs: undefined };
    dhan.nextFaults = [];
    dhan.nextOutcomes = [];
    dhan.absentReply = "404";
  });
  afterAll(() => dhan.stop());

  describe("when Dhan refuses the credentials", () => {
    it("answers unauthenticated (nothing placed), reports itself unavailable, and sends nothing more with that token", async () => {
      const router = routerWith();
      dhan.account.renewToken("token-2"); // the token the router holds no longer works at the broker
      const error = await router.placeExitOrder(order("c-expired"), signal()).catch((e: unknown) => e);
      expect(isTradingCoreError(error, "unauthenticated")).toBe(true);
      expect((error as Error).message).toContain("DH-901");
      expect(router.availability()).toMatchObject({ available: false, reason: expect.stringMatching(/DH-901.*new access token/) });
      const posts = dhan.orderPosts;
      await expect(router.reserveSend(order("c-next"), signal())).rejects.toMatchObject({ code: "unauthenticated" });
      await expect(router.placeExitOrder(order("c-next"), signal())).rejects.toMatchObject({ code: "unauthenticated" });
      expect(dhan.orderPosts).toBe(posts);
    });

    it("is available again once a new token is loaded, and sends it", async () => {
      const router = routerWith();
      dhan.account.renewToken("token-2");
      await router.placeExitOrder(order("c-old"), signal()).catch(() => undefined);
      token.current = "token-2";
      token.version = 2;
      expect(router.availability()).toEqual({ available: true });
      expect(classifyRouterReply(await router.placeExitOrder(order("c-new"), signal())).kind).toBe("accepted");
      expect(dhan.requests.at(-1)?.token).toBe("token-2");
    });

    it("takes a refused token on a look-up as refused too", async () => {
      const router = routerWith();
      dhan.account.renewToken("token-2");
      await expect(router.findOrder("c-any", signal())).rejects.toMatchObject({ code: "unavailable" });
      expect(router.availability().available).toBe(false);
    });

    it("is unavailable from the moment the token says it expires, before Dhan is asked", () => {
      token.expiresAtMs = clock.now() + 60_000;
      const router = routerWith();
      expect(router.availability()).toEqual({ available: true });
      clock.advance(60_000);
      expect(router.availability()).toMatchObject({ available: false, reason: expect.stringContaining("expired at") });
    });
  });

  describe("rate limits", () => {
    it("waits for a slot before the router call, on the injected clock, when one comes before the send deadline", async () => {
      const router = routerWith({ rateLimiter: new MemoryOrderRateLimiter(parseRateWindows("2/s")) });
      await router.reserveSend(order("c-1"), signal());
      await router.reserveSend(order("c-2"), signal());
      const before = clock.now();
      await router.reserveSend(order("c-3"), signal());
      expect(clock.now() - before).toBe(1_000);
    });

    it("refuses at once, not placed, when the next slot is past the send deadline, and stays unavailable until it", async () => {
      const router = routerWith({ rateLimiter: new MemoryOrderRateLimiter(parseRateWindows("1/m")) });
      await router.reserveSend(order("c-1"), signal());
      const error = await router.reserveSend(order("c-2"), signal()).catch((e: unknown) => e);
      expect(isTradingCoreError(error, "resource-exhausted")).toBe(true);
      expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(60_000);
      expect(clock.sleeps).toEqual([]);
      expect(router.availability()).toMatchObject({ available: false, reason: expect.stringContaining("rate limit") });
      clock.advance(60_000);
      expect(router.availability()).toEqual({ available: true });
    });

    it("on DH-904 pauses every order for a while, doubling while Dhan keeps refusing", async () => {
      const router = routerWith({ rateLimitedPauseMs: 1_000 });
      dhan.nextFaults = ["rate-limit", "rate-limit"];
      const first = await router.placeExitOrder(order("c-r1"), signal()).catch((e: unknown) => e);
      expect(first).toMatchObject({ code: "resource-exhausted", retryAfterMs: 1_000 });
      expect(router.availability().available).toBe(false);
      clock.advance(1_000);
      const second = await router.placeExitOrder(order("c-r2"), signal()).catch((e: unknown) => e);
      expect(second).toMatchObject({ code: "resource-exhausted", retryAfterMs: 2_000 });
    });
  });

  describe("product type", () => {
    it("sends the position's own product type, and the configured one for a position registered without", async () => {
      const router = routerWith({ productType: "CNC" });
      await router.placeExitOrder(order("c-margin", { productType: ProductType.MARGIN }), signal());
      expect(JSON.parse(dhan.requests.at(-1)!.body).productType).toBe("MARGIN");
      await router.placeExitOrder(order("c-default"), signal());
      expect(JSON.parse(dhan.requests.at(-1)!.body).productType).toBe("CNC");
    });

    it("refuses a cover or bracket order position without sending anything", async () => {
      const router = routerWith();
      const posts = dhan.orderPosts;
      const reply = await router.placeExitOrder(order("c-bo", { productType: ProductType.BO }), signal());
      expect(classifyRouterReply(reply)).toMatchObject({ kind: "rejected", message: expect.stringContaining("BO") });
      expect(dhan.orderPosts).toBe(posts);
    });
  });

  describe("what a look-up answers", () => {
    it.each([
      ["HTTP 404", "404"],
      ["DH-907 (no data)", "no-data"],
    ] as const)("takes %s as no such order", async (_, reply) => {
      dhan.absentReply = reply;
      expect(await routerWith().findOrder("c-never", signal())).toBeUndefined();
    });

    it("takes a 200 without our correlation id as a failed look-up, never as the order", async () => {
      dhan.absentReply = "empty-object";
      await expect(routerWith().findOrder("c-never", signal())).rejects.toMatchObject({
        code: "unavailable",
        message: expect.stringContaining("without that correlation id"),
      });
    });

    it("reads every documented order status, and an undocumented one as unrecognised", () => {
      const documented = [
        "TRANSIT",
        "PENDING",
        "CLOSED",
        "TRIGGERED",
        "REJECTED",
        "CANCELLED",
        "PART_TRADED",
        "TRADED",
        "EXPIRED",
        "CONFIRM",
      ];
      for (const status of documented) expect(BrokerOrderStatus[brokerOrderStatusOf(status)]).toBe(status);
      expect(brokerOrderStatusOf("PARKED")).toBe(BrokerOrderStatus.UNSPECIFIED);
    });

    it("follows an order in a Super Order or Forever order state as live", async () => {
      dhan.nextOutcomes = [{ status: "TRIGGERED" }];
      const router = routerWith();
      await router.placeExitOrder(order("c-trig"), signal());
      const found = await router.findOrder("c-trig", signal());
      expect(found?.status).toBe(BrokerOrderStatus.TRIGGERED);
      expect(classifyRouterReply({ orderStatus: "TRIGGERED" }).kind).toBe("accepted");
    });
  });
});
