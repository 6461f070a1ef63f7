import { describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { ExitOrderRequest } from "../../../src/exit/ports.js";
import type { OrderUpdate } from "../../../src/exit/order-update-change.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { seededRandom } from "../../../src/router/seeded-random.js";

const signal = () => new AbortController().signal;
let sequence = 0;
function order(change: Partial<ExitOrderRequest> = {}): ExitOrderRequest {
  sequence++;
  return {
    correlationId: `x-paper-${sequence}`,
    orderNo: `P-${sequence}`,
    segment: Segment.NSE_EQ,
    securityId: "1333",
    symbol: "HDFCBANK",
    transactionType: "SELL",
    quantity: new Money("10"),
    paper: true,
    referencePrice: new Money("100"),
    sendDeadlineMs: Number.MAX_SAFE_INTEGER,
    ...change,
  };
}

async function statusesOf(router: PaperRouter, count: number): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      statuses.push(String(((await router.placeExitOrder(order(), signal())) as { orderStatus: string }).orderStatus));
    } catch (error) {
      statuses.push(`lost: ${(error as Error).message}`);
    }
  }
  return statuses;
}

describe("seededRandom", () => {
  it("draws the same sequence from the same seed, a different one from another", () => {
    const draws = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(draws(7).every((value) => value >= 0 && value < 1)).toBe(true);
  });
});

describe("PaperRouter with injected faults and a seed", () => {
  const faults = { rejectRate: 0.3, lostReplyRate: 0.2, rejectAfterAcceptRate: 0.2, partialFillRate: 0.2, lateFillRate: 0.2 };

  it("repeats the same faults in the same order for the same seed", async () => {
    const first = await statusesOf(new PaperRouter({ faults, seed: 42 }), 40);
    const second = await statusesOf(new PaperRouter({ faults, seed: 42 }), 40);
    expect(first).toEqual(second);
    expect(new Set(first).size).toBeGreaterThan(3);
  });

  it("draws other faults for another seed", async () => {
    expect(await statusesOf(new PaperRouter({ faults, seed: 42 }), 40)).not.toEqual(
      await statusesOf(new PaperRouter({ faults, seed: 43 }), 40),
    );
  });
});

describe("PaperRouter past an order's send deadline", () => {
  it("throws deadline-passed and places nothing", async () => {
    let nowMs = 1_000;
    const router = new PaperRouter({ now: () => nowMs });
    const late = order({ sendDeadlineMs: 1_000 });
    await expect(router.placeExitOrder(late, signal())).rejects.toMatchObject({ code: "deadline-passed" });
    expect(router.ordersFor(late.orderNo)).toBe(0);
    expect(await router.findOrder(late.correlationId)).toBeUndefined();
    nowMs = 999;
    await router.placeExitOrder({ ...late, sendDeadlineMs: 1_000 }, signal());
    expect(router.ordersFor(late.orderNo)).toBe(1);
  });
});

describe("PaperRouter with an order sent without an LTP", () => {
  it("keeps it PENDING, fills it at the next tick of its instrument and reports the fill as an order update", async () => {
    const updates: OrderUpdate[] = [];
    const router = new PaperRouter({ updates: { apply: async (update) => void updates.push(update) } });
    const placed = order({ securityId: "2885" });
    delete (placed as { referencePrice?: Money }).referencePrice;
    expect(await router.placeExitOrder(placed, signal())).toMatchObject({ orderStatus: "PENDING" });
    router.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money("1"), timeMs: 1 }]);
    await router.whenTicksApplied();
    expect((await router.findOrder(placed.correlationId))?.status).toBe(BrokerOrderStatus.PENDING);
    router.write([{ segment: Segment.NSE_EQ, securityId: "2885", ltp: new Money("2501.3"), timeMs: 2 }]);
    await router.whenTicksApplied();
    expect(await router.findOrder(placed.correlationId)).toMatchObject({
      status: BrokerOrderStatus.TRADED,
      tradedQuantity: new Money("10"),
      averagePrice: new Money("2501.3"),
    });
    expect(updates).toMatchObject([
      { correlationId: placed.correlationId, status: BrokerOrderStatus.TRADED, averagePrice: new Money("2501.3") },
    ]);
  });

  it("expires it when no tick comes within the expiry", async () => {
    let nowMs = 0;
    const router = new PaperRouter({ now: () => nowMs, expireAfterMs: 60_000 });
    const placed = { ...order(), referencePrice: undefined } as unknown as ExitOrderRequest;
    await router.placeExitOrder(placed, signal());
    nowMs = 59_999;
    expect((await router.findOrder(placed.correlationId))?.status).toBe(BrokerOrderStatus.PENDING);
    nowMs = 60_000;
    expect((await router.findOrder(placed.correlationId))?.status).toBe(BrokerOrderStatus.EXPIRED);
  });
});
