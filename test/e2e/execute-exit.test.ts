import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, PriceSource, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { InProcessLock } from "../../src/lock/in-process-lock.js";
import { PaperRouter } from "../../src/router/paper-router.js";
import { exitLockResource } from "../../src/exit/exit-engine.js";
import { FlakyTrackerStore } from "../support/flaky-tracker-store.js";
import { publishTick, registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { UnreachableLock } from "../support/unreachable-lock.js";

const exitRequest = (orderNo: string) => ({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });

describe("ExecuteExit on the embedded default", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("answers EXITED at the paper fill, the memory LTP, and marks the tracker EXITED", async () => {
    const orderNo = await registerTracker(server, { securityId: "1001", ltp: null });
    await publishTick(server, "104.35", "1001");
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect(result?.success).toBe(true);
    expect(result?.exitPrice).toBe("104.35");
    expect(result?.priceSource).toBe(PriceSource.FILL);
    expect(result?.referencePrice).toBe("104.35");
    expect(result?.tracker?.exitedQuantity).toBe("75");
    expect(result?.tracker?.status).toBe(TrackerStatus.EXITED);
    expect(result?.tracker?.exitReason).toBe("stop loss hit");
    expect(result?.correlationId).toMatch(/^x[0-9a-f]{16}-1$/);
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("answers ALREADY_EXITED, with success, for a second exit and sends nothing", async () => {
    const orderNo = await registerTracker(server);
    await server.exits.executeExit(exitRequest(orderNo));
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.ALREADY_EXITED);
    expect(result?.success).toBe(true);
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("answers TRACKER_NOT_FOUND for an order_no never registered", async () => {
    const { result } = await server.exits.executeExit(exitRequest(uniqueOrderNo("missing")));
    expect(result?.status).toBe(ExitStatus.TRACKER_NOT_FOUND);
    expect(result?.success).toBe(false);
  });

  it("answers NOT_ACTIVE for a PENDING tracker and leaves it PENDING", async () => {
    const orderNo = uniqueOrderNo();
    await server.exits.registerTracker({
      orderNo,
      segment: 2,
      securityId: "9",
      side: Side.LONG,
      quantity: "1",
      entryPrice: "1",
      status: TrackerStatus.PENDING,
    });
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.NOT_ACTIVE);
    const { tracker } = await server.exits.getTracker({ orderNo });
    expect(tracker?.status).toBe(TrackerStatus.PENDING);
    expect(server.paper.ordersFor(orderNo)).toBe(0);
  });

  it("answers INVALID_REQUEST naming the field for a blank reason", async () => {
    const orderNo = await registerTracker(server);
    const { result } = await server.exits.executeExit({ orderNo, reason: "   " });
    expect(result?.status).toBe(ExitStatus.INVALID_REQUEST);
    expect(result?.message).toMatch(/reason/);
  });

  it("answers EXIT_IN_PROGRESS while another exit holds the tracker's lock, and sends nothing", async () => {
    const lock = new InProcessLock();
    const busy = await startTestServer({ adapters: { lock } });
    try {
      const orderNo = await registerTracker(busy);
      const held = await lock.acquire(exitLockResource(orderNo), 10_000);
      expect(held.kind).toBe("acquired");
      const { result } = await busy.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.EXIT_IN_PROGRESS);
      expect(busy.paper.ordersFor(orderNo)).toBe(0);
      if (held.kind === "acquired") await lock.release(held.lease);
    } finally {
      await busy.close();
    }
  });
});

describe("ExecuteExit when the router or its dependencies fail", () => {
  it("answers ROUTER_UNAVAILABLE when no router is configured", async () => {
    const server = await startTestServer({ adapters: { router: null } });
    try {
      const orderNo = await registerTracker(server);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
      expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    } finally {
      await server.close();
    }
  });

  it("answers ROUTER_UNAVAILABLE when the router is disabled", async () => {
    const server = await startTestServer({ adapters: { router: new PaperRouter({ enabled: false }) } });
    try {
      const orderNo = await registerTracker(server);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
      expect(result?.message).toMatch(/disabled/);
    } finally {
      await server.close();
    }
  });

  it("answers LOCK_UNAVAILABLE when the lock has no quorum, and sends no order", async () => {
    const server = await startTestServer({ adapters: { lock: new UnreachableLock() } });
    try {
      const orderNo = await registerTracker(server);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.LOCK_UNAVAILABLE);
      expect(server.paper.ordersFor(orderNo)).toBe(0);
      expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    } finally {
      await server.close();
    }
  });

  it("answers ROUTER_REJECTED on a definite rejection and leaves the tracker ACTIVE, never CANCELLED", async () => {
    const server = await startTestServer({ adapters: { router: new PaperRouter({ faults: { rejectRate: 1 } }) } });
    try {
      const orderNo = await registerTracker(server);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.ROUTER_REJECTED);
      expect(result?.tracker?.status).toBe(TrackerStatus.ACTIVE);
      expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    } finally {
      await server.close();
    }
  });

  it("answers OUTCOME_UNKNOWN on a router timeout, keeps the intent, and a retry sends no second order", async () => {
    const router = new PaperRouter({ faults: { timeoutRate: 1 } });
    const server = await startTestServer({ adapters: { router }, config: { routerTimeoutMs: 100 } });
    try {
      const orderNo = await registerTracker(server);
      const first = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(first?.status).toBe(ExitStatus.OUTCOME_UNKNOWN);
      expect(first?.tracker?.status).toBe(TrackerStatus.EXITING);
      expect(first?.tracker?.exitCorrelationId).toBe(first?.correlationId);
      router.faults = { ...router.faults, timeoutRate: 0 };
      const retry = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(retry?.status).toBe(ExitStatus.EXIT_IN_PROGRESS);
      expect(router.acceptedOrders).toBe(0);
      expect((await server.exits.getTracker({ orderNo })).tracker?.exitAttempt).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("resolves a lost reply on retry by correlation id: EXITED with exactly one order", async () => {
    const router = new PaperRouter({ faults: { lostReplyRate: 1 } });
    const server = await startTestServer({ adapters: { router } });
    try {
      const orderNo = await registerTracker(server);
      await publishTick(server, "99.95");
      const first = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(first?.status).toBe(ExitStatus.OUTCOME_UNKNOWN);
      const retry = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(retry?.status).toBe(ExitStatus.EXITED);
      expect(retry?.priceSource).toBe(PriceSource.FILL);
      expect(retry?.exitPrice).toBe("99.95");
      expect(router.ordersFor(orderNo)).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe("ExecuteExit when the order is accepted but the tracker update fails (seed 6)", () => {
  it("answers PENDING_RECONCILE, keeps the intent, never re-sends, and an order update finishes it", async () => {
    const store = new FlakyTrackerStore();
    const server = await startTestServer({ adapters: { store }, config: { trackerUpdateRetries: 2 } });
    try {
      const orderNo = await registerTracker(server, { securityId: "2002", ltp: "250.10" });
      // The engine's write and its 2 retries fail, then the second call's write of the fill it looks up.
      store.failWritesTo(TrackerStatus.EXITED, 4);
      const first = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(first?.status).toBe(ExitStatus.PENDING_RECONCILE);
      expect(first?.success).toBe(false);
      expect(store.failedWrites).toBe(3);
      const stored = (await server.exits.getTracker({ orderNo })).tracker!;
      expect(stored.status).toBe(TrackerStatus.EXITING);
      expect(stored.exitCorrelationId).toBe(first?.correlationId);

      const second = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(second?.status).toBe(ExitStatus.PENDING_RECONCILE);
      expect(server.paper.ordersFor(orderNo)).toBe(1);

      const update = await server.exits.applyOrderUpdate({
        correlationId: stored.exitCorrelationId,
        orderId: "paper-fill",
        status: 4,
        tradedQuantity: "75",
        averagePrice: "250.05",
      });
      expect(update.applied).toBe(true);
      expect(update.tracker?.status).toBe(TrackerStatus.EXITED);
      expect(update.tracker?.exitPrice).toBe("250.05");

      const third = (await server.exits.executeExit(exitRequest(orderNo))).result;
      expect(third?.status).toBe(ExitStatus.ALREADY_EXITED);
      expect(server.paper.ordersFor(orderNo)).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("answers EXITED when a retry of the update succeeds", async () => {
    const store = new FlakyTrackerStore();
    const server = await startTestServer({ adapters: { store } });
    try {
      const orderNo = await registerTracker(server);
      store.failWritesTo(TrackerStatus.EXITED, 2);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.EXITED);
      expect(store.failedWrites).toBe(2);
    } finally {
      await server.close();
    }
  });
});

describe("ExecuteExit under 50 concurrent calls on one tracker", () => {
  it("places exactly one order; every other answer is ALREADY_EXITED or EXIT_IN_PROGRESS", async () => {
    const server = await startTestServer({ adapters: { router: new PaperRouter({ faults: { latencyMs: 20 } }) } });
    try {
      const orderNo = await registerTracker(server);
      const results = await Promise.all(Array.from({ length: 50 }, () => server.exits.executeExit(exitRequest(orderNo))));
      const statuses = results.map((response) => response.result?.status);
      expect(statuses.filter((status) => status === ExitStatus.EXITED)).toHaveLength(1);
      expect(statuses.every((s) => s === ExitStatus.EXITED || s === ExitStatus.ALREADY_EXITED || s === ExitStatus.EXIT_IN_PROGRESS)).toBe(
        true,
      );
      expect(server.paper.ordersFor(orderNo)).toBe(1);
    } finally {
      await server.close();
    }
  });
});
