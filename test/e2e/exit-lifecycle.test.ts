/**
 * The exit lifecycle over a real server: unknown outcomes resolved by the
 * reconciler, refused exits retried, partial fills through ApplyOrderUpdate,
 * ExitAll and WatchExits streams, and shutdown with exits in flight.
 */
import type { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../src/domain/money.js";
import { NO_FAULTS, PaperRouter } from "../../src/router/paper-router.js";
import { publishTick, registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const exitRequest = (orderNo: string) => ({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });
/** The reconciler resolves intents at once and every 50 ms: the tests wait for outcomes, never for time. */
const FAST_RECONCILER = { reconcilerGraceMs: 0, reconcilerIntervalMs: 50 };

/** Polls until `read` answers something `done` accepts; fails after 30 s. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let waited = 0; ; waited += 20) {
    const value = await read();
    if (done(value)) return value;
    if (waited > 30_000)
      throw new Error(
        `condition not reached within 30 s; last value: ${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? String(v) : v))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Injects `faults` into the next order only: a reconciler retry racing the test never sees them. */
function faultsOnNextOrder(paper: PaperRouter, faults: Partial<typeof NO_FAULTS>): void {
  const place = paper.placeExitOrder;
  paper.faults = { ...NO_FAULTS, ...faults };
  paper.placeExitOrder = async (order, signal) => {
    paper.placeExitOrder = place;
    try {
      return await place.call(paper, order, signal);
    } finally {
      paper.faults = NO_FAULTS;
    }
  };
}

async function trackerOf(server: TestServer, orderNo: string) {
  return (await server.exits.getTracker({ orderNo })).tracker!;
}

async function exitedOrTimeout(server: TestServer, orderNo: string) {
  return eventually(
    () => trackerOf(server, orderNo),
    (t) => t.status === TrackerStatus.EXITED,
  );
}

describe("ExecuteExit when the router's reply is lost", () => {
  let server: TestServer;
  const paper = new PaperRouter();
  beforeAll(async () => {
    server = await startTestServer({ adapters: { router: paper }, config: FAST_RECONCILER });
  });
  afterAll(() => server.close());

  it("answers OUTCOME_UNKNOWN, and the reconciler marks the tracker EXITED with one order", { timeout: 120_000 }, async () => {
    const orderNo = await registerTracker(server, { securityId: "2001" });
    await publishTick(server, "99.85", "2001");
    faultsOnNextOrder(paper, { lostReplyRate: 1 });
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.OUTCOME_UNKNOWN);
    const tracker = await exitedOrTimeout(server, orderNo);
    expect(tracker.exitPrice).toBe("99.85");
    expect(tracker.exitAttempt).toBe(1);
    expect(paper.ordersFor(orderNo)).toBe(1);
  });

  it("sends the tracker back to ACTIVE when the lost order was rejected, and retries it to EXITED", { timeout: 120_000 }, async () => {
    const orderNo = await registerTracker(server, { securityId: "2002" });
    await publishTick(server, "99.9", "2002");
    faultsOnNextOrder(paper, { lostReplyRate: 1, rejectRate: 1 });
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.OUTCOME_UNKNOWN);
    const tracker = await exitedOrTimeout(server, orderNo);
    expect(tracker.exitAttempt).toBe(2);
    expect(paper.ordersFor(orderNo)).toBe(1);
  });
});

describe("ApplyOrderUpdate over a real server", () => {
  let server: TestServer;
  const paper = new PaperRouter();
  beforeAll(async () => {
    server = await startTestServer({ adapters: { router: paper }, config: { ...FAST_RECONCILER, fillWaitMs: 200 } });
  });
  afterAll(() => server.close());

  it("answers AWAITING_FILL with no LTP, records 40 of 100 traded, reopens the residual on cancel, and the residual 60 is exited, never 100", {
    timeout: 120_000,
  }, async () => {
    const orderNo = await registerTracker(server, { securityId: "3001", quantity: "100", ltp: null });
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.AWAITING_FILL);
    expect(result?.success).toBe(false);
    expect(result?.tracker).toMatchObject({ status: TrackerStatus.EXITING, exitedQuantity: "0" });
    const correlationId = result!.correlationId;
    const orderId = result!.tracker!.exitOrderId;
    expect(orderId).not.toBe("");
    const partial = await server.exits.applyOrderUpdate({
      correlationId,
      orderId,
      status: BrokerOrderStatus.PART_TRADED,
      tradedQuantity: "40",
      averagePrice: "101",
    });
    expect(partial.applied).toBe(true);
    expect(partial.tracker).toMatchObject({ status: TrackerStatus.EXITING, exitedQuantity: "40" });
    // The broker cancels the rest; the paper book is told the same, as the broker's own book would say.
    paper.updateOrder(correlationId, {
      status: BrokerOrderStatus.CANCELLED,
      tradedQuantity: new Money("40"),
      averagePrice: new Money("101"),
    });
    const cancelled = await server.exits.applyOrderUpdate({
      correlationId,
      orderId,
      status: BrokerOrderStatus.CANCELLED,
      tradedQuantity: "40",
      averagePrice: "101",
    });
    expect(cancelled.applied).toBe(true);
    expect(cancelled.tracker).toMatchObject({ status: TrackerStatus.ACTIVE, exitedQuantity: "40" });
    await publishTick(server, "101.5", "3001");
    const tracker = await exitedOrTimeout(server, orderNo);
    expect(tracker.exitedQuantity).toBe("100");
    expect(tracker.exitPrice).toBe("101.3");
    expect(tracker.exitAttempt).toBe(2);
    expect(tracker.exitCorrelationId).not.toBe(correlationId);
    expect((await paper.findOrder(tracker.exitCorrelationId))?.quantity.toFixed()).toBe("60");
  });

  it("keeps an update for an unknown correlation id and says so", { timeout: 120_000 }, async () => {
    const response = await server.exits.applyOrderUpdate({
      correlationId: "x0000000000000000-9",
      orderId: "B-9",
      status: BrokerOrderStatus.TRADED,
      tradedQuantity: "1",
      averagePrice: "1",
    });
    expect(response.applied).toBe(false);
    expect(response.tracker).toBeUndefined();
    expect(response.message).toMatch(/kept and applied when it appears/);
  });
});

describe("ExitAll over a real server", () => {
  let server: TestServer;
  const paper = new PaperRouter({ faults: { latencyMs: 20 } }); // slow enough that a cancel lands mid-stream on a busy machine
  beforeAll(async () => {
    server = await startTestServer({ adapters: { router: paper }, config: FAST_RECONCILER });
  });
  afterAll(() => server.close());

  it("streams one EXITED result per matching tracker and leaves the others ACTIVE", { timeout: 120_000 }, async () => {
    const matching = await Promise.all(
      Array.from({ length: 30 }, (_, i) => registerTracker(server, { segment: Segment.BSE_FNO, securityId: `40${i}` })),
    );
    const other = await registerTracker(server, { segment: Segment.MCX_COMM, securityId: "4999" });
    const seen: string[] = [];
    for await (const { result } of server.exits.exitAll({
      segment: Segment.BSE_FNO,
      reason: "session end",
      reasonCode: ExitReasonCode.SESSION_END,
      maxParallel: 4,
    })) {
      expect(result?.status).toBe(ExitStatus.EXITED);
      seen.push(result!.tracker!.orderNo);
    }
    expect(seen.sort()).toEqual([...matching].sort());
    expect((await trackerOf(server, other)).status).toBe(TrackerStatus.ACTIVE);
    for (const orderNo of matching) expect(paper.ordersFor(orderNo)).toBe(1);
  });

  it("answers INVALID_ARGUMENT for max_parallel above 64", { timeout: 120_000 }, async () => {
    const stream = server.exits.exitAll({ reason: "session end", maxParallel: 65 });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toMatchObject({ code: 3 });
  });

  it("finishes every exit it started when the client cancels mid-stream, and starts no others", { timeout: 120_000 }, async () => {
    const orderNos = await Promise.all(
      Array.from({ length: 80 }, (_, i) => registerTracker(server, { segment: Segment.BSE_CURRENCY, securityId: `50${i}` })),
    );
    const controller = new AbortController();
    let received = 0;
    try {
      for await (const _ of server.exits.exitAll(
        { segment: Segment.BSE_CURRENCY, reason: "session end", maxParallel: 4 },
        { signal: controller.signal },
      )) {
        if (++received === 5) controller.abort();
      }
    } catch {
      // cancelled by us
    }
    const exiting = () => server.exits.listTrackers({ status: TrackerStatus.EXITING, segment: Segment.BSE_CURRENCY, pageSize: 1000 });
    await eventually(exiting, (page) => page.trackers.length === 0 && server.core.services.engine.exitsInFlight === 0);
    const statuses = await Promise.all(orderNos.map(async (orderNo) => ({ orderNo, status: (await trackerOf(server, orderNo)).status })));
    const exited = statuses.filter((s) => s.status === TrackerStatus.EXITED);
    expect(exited.length).toBeGreaterThanOrEqual(5);
    expect(exited.length).toBeLessThan(80);
    for (const { orderNo, status } of statuses) expect(paper.ordersFor(orderNo)).toBe(status === TrackerStatus.EXITED ? 1 : 0);
  });
});

describe("WatchExits over a real server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { ...FAST_RECONCILER, watchBufferSize: 8 } });
  });
  afterAll(() => server.close());

  it("sees intent, acceptance and EXITED of an exit, in order, with rising sequence numbers", { timeout: 120_000 }, async () => {
    const orderNo = await registerTracker(server, { securityId: "6001" });
    const controller = new AbortController();
    const stream = server.exits.watchExits({ orderNo }, { signal: controller.signal });
    const events: { kind: ExitEventKind; sequence: bigint; status: TrackerStatus | undefined }[] = [];
    const reading = (async () => {
      try {
        for await (const { event } of stream) {
          events.push({ kind: event!.kind, sequence: event!.sequence, status: event!.tracker?.status });
          if (event!.kind === ExitEventKind.EXITED) controller.abort();
        }
      } catch {
        // cancelled by us
      }
    })();
    await eventually(
      async () => server.core.services.events.watcherCount,
      (count) => count >= 1,
    );
    await server.exits.executeExit(exitRequest(orderNo));
    await reading;
    expect(events.map((e) => e.kind)).toEqual([ExitEventKind.INTENT, ExitEventKind.ROUTER_ACCEPTED, ExitEventKind.EXITED]);
    expect(events.map((e) => e.status)).toEqual([TrackerStatus.EXITING, TrackerStatus.EXITING, TrackerStatus.EXITED]);
    expect(events[1]!.sequence).toBeGreaterThan(events[0]!.sequence);
    expect(events[2]!.sequence).toBeGreaterThan(events[1]!.sequence);
  });

  it("lets exits finish while a watcher never reads, and drops that watcher with RESOURCE_EXHAUSTED", { timeout: 120_000 }, async () => {
    await eventually(
      async () => server.core.services.events.watcherCount,
      (count) => count === 0,
    ); // the previous test's watch is gone
    const controller = new AbortController();
    const idle = server.exits.watchExits({}, { signal: controller.signal }) as unknown as EventEmitter;
    let failure: unknown;
    idle.on("error", (error: unknown) => (failure = error)); // listens for the status only: reads no message
    await eventually(
      async () => server.core.services.events.watcherCount,
      (count) => count >= 1,
    );
    const orderNos = await Promise.all(
      Array.from({ length: 400 }, (_, i) => registerTracker(server, { segment: Segment.IDX_I, securityId: `7${i}` })),
    );
    let exited = 0;
    for await (const { result } of server.exits.exitAll({ segment: Segment.IDX_I, reason: "session end", maxParallel: 16 })) {
      if (result?.success) exited++;
    }
    expect(exited).toBe(orderNos.length);
    await eventually(
      async () => server.core.services.events.watcherCount,
      (count) => count === 0,
    );
    await eventually(
      async () => failure,
      (error) => error !== undefined,
    );
    controller.abort();
    expect(failure).toMatchObject({ code: 8 }); // RESOURCE_EXHAUSTED
  });
});

describe("Shutdown with an exit in flight", () => {
  it("waits for the exit to finish: the tracker ends EXITED and the caller gets its result", { timeout: 120_000 }, async () => {
    const paper = new PaperRouter({ faults: { latencyMs: 300 } });
    const server = await startTestServer({ adapters: { router: paper } });
    const orderNo = uniqueOrderNo();
    await registerTracker(server, { orderNo });
    const exiting = server.exits.executeExit(exitRequest(orderNo));
    await eventually(
      async () => server.core.services.engine.exitsInFlight,
      (n) => n > 0,
    );
    const stopped = server.core.stop();
    const { result } = await exiting;
    await stopped;
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect((await server.core.services.store.get(orderNo))?.status).toBe(TrackerStatus.EXITED);
    expect(paper.ordersFor(orderNo)).toBe(1);
    server.exits.close();
    server.ticks.close();
    server.health.close();
  });
});
