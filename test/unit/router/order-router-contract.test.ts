/**
 * The OrderRouter contract, run against every adapter: what the exit engine
 * may rely on whichever router is configured (the paper router, and the Dhan
 * v2 router against the Dhan simulator).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { ExitOrderRequest, OrderRouter } from "../../../src/exit/ports.js";
import { classifyRouterReply } from "../../../src/exit/router-reply.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter } from "../../../src/router/dhan-router.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { instantDhanSimulator } from "../../support/dhan-sim.js";

const FILL_PRICE = "24012.05";

const dhan = instantDhanSimulator({ defaultPrice: FILL_PRICE });
beforeAll(async () => {
  await dhan.start();
});
afterAll(() => dhan.stop());

const adapters: Array<[string, () => OrderRouter]> = [
  ["PaperRouter", () => new PaperRouter()],
  [
    "DhanRouter",
    () =>
      new DhanRouter({ ...DEFAULT_DHAN_SETTINGS, baseUrl: dhan.baseUrl, clientId: "1000000001", accessToken: dhan.account.accessToken }),
  ],
];

let next = 0;
const order = (): ExitOrderRequest => ({
  correlationId: `contract-${++next}`,
  orderNo: `ENTRY-${next}`,
  segment: Segment.NSE_FNO,
  securityId: "52175",
  symbol: "NIFTY24DEC24000CE",
  transactionType: "SELL",
  quantity: new Money("75"),
  paper: true,
  referencePrice: new Money(FILL_PRICE),
  // Far ahead: these cases are not about the deadline; the last one is.
  sendDeadlineMs: Date.now() + 60_000,
});
const signal = () => AbortSignal.timeout(10_000);

describe.each(adapters)("%s", (_name, makeRouter) => {
  it("is available once configured", () => {
    expect(makeRouter().availability()).toEqual({ available: true });
  });

  it("answers a placed exit order with a reply the engine reads as accepted", async () => {
    const reply = await makeRouter().placeExitOrder(order(), signal());
    expect(classifyRouterReply(reply)).toMatchObject({ kind: "accepted" });
  });

  it("finds a filled order by its correlation id: whole quantity traded at the fill price, to the digit", async () => {
    const router = makeRouter();
    const placed = order();
    await router.placeExitOrder(placed, signal());
    const found = await router.findOrder(placed.correlationId, signal());
    expect(found).toMatchObject({ correlationId: placed.correlationId, status: BrokerOrderStatus.TRADED });
    expect(found?.quantity.toString()).toBe("75");
    expect(found?.tradedQuantity.toString()).toBe("75");
    expect(found?.averagePrice?.toString()).toBe(FILL_PRICE);
    expect(found?.orderId).not.toBe("");
  });

  it("gives two orders two order ids", async () => {
    const router = makeRouter();
    const [first, second] = [order(), order()];
    await router.placeExitOrder(first, signal());
    await router.placeExitOrder(second, signal());
    const ids = [
      (await router.findOrder(first.correlationId, signal()))?.orderId,
      (await router.findOrder(second.correlationId, signal()))?.orderId,
    ];
    expect(ids[0]).not.toBe(ids[1]);
  });

  it("refuses an order whose send deadline has passed and places nothing", async () => {
    const router = makeRouter();
    const late = { ...order(), sendDeadlineMs: 0 };
    await expect(router.placeExitOrder(late, signal())).rejects.toMatchObject({ code: "deadline-passed" });
    expect(await router.findOrder(late.correlationId, signal())).toBeUndefined();
  });

  it("knows no order for a correlation id nothing was placed with", async () => {
    expect(await makeRouter().findOrder(`never-placed-${++next}`, signal())).toBeUndefined();
  });
});
