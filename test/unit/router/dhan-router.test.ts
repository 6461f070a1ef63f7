import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import { isTradingCoreError } from "../../../src/domain/trading-core-error.js";
import type { ExitOrderRequest } from "../../../src/exit/ports.js";
import { classifyRouterReply } from "../../../src/exit/router-reply.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter } from "../../../src/router/dhan-router.js";
import { dhanRouterOn, instantDhanSimulator } from "../../support/dhan-sim.js";

const order = (correlationId: string, change: Partial<ExitOrderRequest> = {}): ExitOrderRequest => ({
  correlationId,
  orderNo: "E-1",
  segment: Segment.NSE_FNO,
  securityId: "52175",
  symbol: "NIFTY",
  transactionType: "SELL",
  quantity: new Money("75"),
  paper: false,
  sendDeadlineMs: Date.now() + 60_000,
  ...change,
});

describe("DhanRouter against the Dhan simulator", () => {
  const dhan = instantDhanSimulator();
  let router: DhanRouter;
  const signal = () => AbortSignal.timeout(5_000);
  beforeAll(async () => {
    await dhan.start();
  });
  beforeEach(() => {
    router = dhanRouterOn(dhan, { circuitThreshold: 2 });
    dhan.nextFaults = [];
  });
  afterAll(() => dhan.stop());

  it("places a MARKET DAY order on the opposite side with our correlation id and the token in its header only", async () => {
    const reply = await router.placeExitOrder(order("c-place"), signal());
    expect(classifyRouterReply(reply)).toMatchObject({ kind: "accepted" });
    const sent = dhan.requests.at(-1)!;
    expect(sent.token).toBe(dhan.account.accessToken);
    expect(JSON.parse(sent.body)).toMatchObject({
      dhanClientId: "1000000001",
      correlationId: "c-place",
      transactionType: "SELL",
      exchangeSegment: "NSE_FNO",
      orderType: "MARKET",
      validity: "DAY",
      securityId: "52175",
      quantity: 75,
    });
    expect(sent.body).not.toContain(dhan.account.accessToken);
  });

  it("finds the order by correlation id with the fill price exact to the digit", async () => {
    dhan.tick("NSE_FNO", "52176", "24567.123456789012345");
    await router.placeExitOrder(order("c-find", { securityId: "52176" }), signal());
    const found = await router.findOrder("c-find", signal());
    expect(found?.status).toBe(BrokerOrderStatus.TRADED);
    expect(found?.averagePrice?.toFixed()).toBe("24567.123456789012345");
    expect(found?.tradedQuantity.toFixed()).toBe("75");
  });

  it("sends nothing once the order's send deadline has passed: deadline-passed, definitely not placed", async () => {
    const before = dhan.requests.length;
    await expect(router.placeExitOrder(order("c-late", { sendDeadlineMs: Date.now() - 1 }), signal())).rejects.toMatchObject({
      code: "deadline-passed",
    });
    expect(dhan.requests.length).toBe(before);
    expect(dhan.orders.byCorrelation("c-late")).toBeUndefined();
  });

  it("answers undefined for a correlation id the broker does not know", async () => {
    expect(await router.findOrder("never-sent", signal())).toBeUndefined();
  });

  it("turns DH-906 into a definite rejection", async () => {
    dhan.nextFaults = ["reject"];
    const outcome = classifyRouterReply(await router.placeExitOrder(order("c-rej"), signal()));
    expect(outcome).toMatchObject({ kind: "rejected", message: expect.stringContaining("DH-906") });
  });

  it("turns DH-904 into resource-exhausted: not placed, safe to retry", async () => {
    dhan.nextFaults = ["rate-limit"];
    const error = await router.placeExitOrder(order("c-rate"), signal()).catch((e: unknown) => e);
    expect(isTradingCoreError(error, "resource-exhausted")).toBe(true);
    expect(dhan.orders.byCorrelation("c-rate")).toBeUndefined();
  });

  it("turns a 5xx or a dropped connection into unavailable: the outcome is unknown", async () => {
    dhan.nextFaults = ["server-error", "accept-then-drop"];
    for (const id of ["c-500", "c-drop"]) {
      const error = await router.placeExitOrder(order(id), signal()).catch((e: unknown) => e);
      expect(isTradingCoreError(error, "unavailable")).toBe(true);
    }
    expect(dhan.orders.byCorrelation("c-drop")).toBeDefined();
  });

  it("turns DH-908/909/910 into unavailable even when sent with a 4xx status: the order may exist", async () => {
    dhan.nextFaults = ["network-error-after-accept"];
    const error = await router.placeExitOrder(order("c-909"), signal()).catch((e: unknown) => e);
    expect(isTradingCoreError(error, "unavailable")).toBe(true);
    expect(dhan.orders.byCorrelation("c-909")).toBeDefined();
  });

  it("opens its circuit after repeated unknown outcomes and reports itself unavailable", async () => {
    dhan.nextFaults = ["server-error", "server-error"];
    await router.placeExitOrder(order("c-o1"), signal()).catch(() => undefined);
    await router.placeExitOrder(order("c-o2"), signal()).catch(() => undefined);
    expect(router.availability()).toMatchObject({ available: false, reason: expect.stringContaining("circuit open") });
  });

  it("refuses, without calling the broker, an index segment or a fractional quantity", async () => {
    const before = dhan.requests.length;
    expect(classifyRouterReply(await router.placeExitOrder(order("c-idx", { segment: Segment.IDX_I }), signal())).kind).toBe("rejected");
    expect(classifyRouterReply(await router.placeExitOrder(order("c-frac", { quantity: new Money("1.5") }), signal())).kind).toBe(
      "rejected",
    );
    expect(dhan.requests.length).toBe(before);
  });

  it("is unavailable without credentials", () => {
    expect(
      new DhanRouter({ ...DEFAULT_DHAN_SETTINGS, baseUrl: dhan.baseUrl, clientId: "", accessToken: "" }).availability().available,
    ).toBe(false);
  });
});
