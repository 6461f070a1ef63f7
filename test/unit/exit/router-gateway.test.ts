import { describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import { TradingCoreError } from "../../../src/domain/trading-core-error.js";
import type { BrokerOrder, Clock, ExitOrderRequest, OrderRouter } from "../../../src/exit/ports.js";
import { RouterGateway } from "../../../src/exit/router-gateway.js";

const order: ExitOrderRequest = {
  correlationId: "x-1",
  orderNo: "ORD-1",
  segment: Segment.NSE_EQ,
  securityId: "1333",
  symbol: "HDFCBANK",
  transactionType: "SELL",
  quantity: new Money("10"),
  paper: true,
  sendDeadlineMs: Number.MAX_SAFE_INTEGER,
};

/** A router that is rate limited on every call, counting the calls. */
class RateLimitedRouter implements OrderRouter {
  calls = 0;
  availability() {
    return { available: true } as const;
  }
  async placeExitOrder(): Promise<unknown> {
    this.calls++;
    throw new TradingCoreError("resource-exhausted", "rate limited");
  }
  async findOrder(_correlationId: string): Promise<BrokerOrder | undefined> {
    return undefined;
  }
}

describe("RouterGateway when the lock is lost during the backoff after a rate-limited call", () => {
  it("answers not-placed without calling the router again", async () => {
    const router = new RateLimitedRouter();
    const lease = { lost: false };
    // The lease is lost while the gateway waits to retry.
    const clock: Clock = { now: () => 0, sleep: async () => void (lease.lost = true) };
    const gateway = new RouterGateway(router, clock, { routerTimeoutMs: 1_000, notPlacedRetries: 3, notPlacedBackoffMs: 1 });
    const result = await gateway.place(order, lease);
    expect(result.outcome.kind).toBe("not-placed");
    expect(router.calls).toBe(1);
  });
});

describe("RouterGateway looking up an order whose broker status it does not recognise", () => {
  it("answers lookup-failed, never accepted: the intent stays unresolved", async () => {
    const router = new RateLimitedRouter();
    router.findOrder = async (correlationId: string) => ({
      orderId: "9001",
      correlationId,
      status: BrokerOrderStatus.UNSPECIFIED,
      quantity: new Money("10"),
      tradedQuantity: new Money("0"),
    });
    const clock: Clock = { now: () => 0, sleep: async () => undefined };
    const gateway = new RouterGateway(router, clock, { routerTimeoutMs: 1_000, notPlacedRetries: 3, notPlacedBackoffMs: 1 });
    const found = await gateway.find("x-1");
    expect(found.kind).toBe("lookup-failed");
  });
});
