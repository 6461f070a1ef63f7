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

describe("RouterGateway with a router that rate-limits before the call", () => {
  it("waits for the slot outside the router call's timeout, so a long wait is never an unknown outcome", async () => {
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const router: OrderRouter = {
      availability: () => ({ available: true }),
      // The slot comes 900 ms later; the router timeout is 500 ms.
      reserveSend: async () => clock.sleep(900),
      placeExitOrder: async () => ({ orderId: "9001", orderStatus: "TRANSIT" }),
      findOrder: async () => undefined,
    };
    const gateway = new RouterGateway(router, clock, { routerTimeoutMs: 500, notPlacedRetries: 3, notPlacedBackoffMs: 1 });
    const result = await gateway.place({ ...order, sendDeadlineMs: 2_000 }, { lost: false });
    expect(result.outcome).toMatchObject({ kind: "accepted", orderId: "9001" });
  });

  it("answers not-placed, without calling the router, when no slot comes before the send deadline", async () => {
    const router = Object.assign(new RateLimitedRouter(), {
      reserveSend: async () => {
        throw new TradingCoreError("resource-exhausted", "no slot before the send deadline", { retryAfterMs: 60_000 });
      },
    });
    const gateway = new RouterGateway(
      router,
      { now: () => 0, sleep: async () => undefined },
      {
        routerTimeoutMs: 500,
        notPlacedRetries: 3,
        notPlacedBackoffMs: 1,
      },
    );
    const result = await gateway.place(order, { lost: false });
    expect(result).toEqual({ outcome: { kind: "not-placed", message: "no slot before the send deadline" }, attempts: 0 });
    expect(router.calls).toBe(0);
  });

  it("answers not-placed at once, never retried, when the broker refuses the credentials", async () => {
    const router = new RateLimitedRouter();
    router.placeExitOrder = async () => {
      router.calls++;
      throw new TradingCoreError("unauthenticated", "Dhan refused the credentials (DH-901)");
    };
    const gateway = new RouterGateway(
      router,
      { now: () => 0, sleep: async () => undefined },
      {
        routerTimeoutMs: 500,
        notPlacedRetries: 3,
        notPlacedBackoffMs: 1,
      },
    );
    const result = await gateway.place(order, { lost: false });
    expect(result.outcome).toMatchObject({ kind: "not-placed", message: expect.stringContaining("DH-901") });
    expect(router.calls).toBe(1);
  });

  it("waits for the broker's own retry-after on a rate-limited call, and gives up when it would pass the send deadline", async () => {
    let now = 0;
    const slept: number[] = [];
    const clock: Clock = { now: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
    const router = new RateLimitedRouter();
    router.placeExitOrder = async () => {
      router.calls++;
      throw new TradingCoreError("resource-exhausted", "DH-904", { retryAfterMs: 400 });
    };
    const gateway = new RouterGateway(router, clock, { routerTimeoutMs: 500, notPlacedRetries: 3, notPlacedBackoffMs: 1 });
    const result = await gateway.place({ ...order, sendDeadlineMs: 1_000 }, { lost: false });
    expect(result.outcome.kind).toBe("not-placed");
    expect(slept).toEqual([400, 400]);
    expect(router.calls).toBe(3);
  });
});

describe("RouterGateway alarms on look-ups", () => {
  it("logs an error (and counts it) for an unrecognised status at once, and for a run of failures from the third on, doubling", async () => {
    const errors: string[] = [];
    const log = { info() {}, warn() {}, error: (_: object, message: string) => void errors.push(message) };
    const router = new RateLimitedRouter();
    let failing = true;
    router.findOrder = async (correlationId: string) => {
      if (failing) throw new TradingCoreError("unavailable", "HTTP 502");
      return {
        orderId: "9001",
        correlationId,
        status: BrokerOrderStatus.UNSPECIFIED,
        quantity: new Money("10"),
        tradedQuantity: new Money("0"),
      };
    };
    const gateway = new RouterGateway(
      router,
      { now: () => 0, sleep: async () => undefined },
      { routerTimeoutMs: 500, notPlacedRetries: 0, notPlacedBackoffMs: 1 },
      log,
    );
    for (let i = 0; i < 6; i++) await gateway.find("x-1");
    expect(errors).toHaveLength(2); // the 3rd and the 6th failure in a row
    expect(errors[0]).toMatch(/failed 3 times in a row/);
    failing = false;
    expect((await gateway.find("x-2")).kind).toBe("lookup-failed");
    expect(errors.at(-1)).toMatch(/status this router does not recognise/);
    expect(gateway.alarms.counts).toEqual({ failing: 2, "unrecognised-status": 1 });
  });
});
