import { describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { isTradingCoreError } from "../../../src/domain/trading-core-error.js";
import { type ExitAllRequest, type ExitAllResult, exitAll } from "../../../src/exit/exit-all.js";
import type { ExitCommand } from "../../../src/exit/exit-command.js";
import { seededRandom } from "../../../src/router/seeded-random.js";
import { drain, type ExitWorld, exitWorld } from "./exit-world.js";

const SQUARE_OFF: ExitAllRequest = { reason: "session end", reasonCode: ExitReasonCode.SESSION_END, maxParallel: 8 };

async function registerMany(world: ExitWorld, count: number, spec: { segment?: Segment; paper?: boolean } = {}, prefix = "ORD") {
  for (let i = 0; i < count; i++) {
    await world.register(`${prefix}-${String(i).padStart(4, "0")}`, { ...spec, securityId: String(10_000 + i) });
  }
}

async function collect(results: AsyncIterable<ExitAllResult>): Promise<ExitAllResult[]> {
  const all: ExitAllResult[] = [];
  for await (const result of results) all.push(result);
  return all;
}

async function trackersWith(world: ExitWorld, status: TrackerStatus) {
  return (await world.store.list({ status }, { limit: 100_000 })).trackers;
}

describe("ExitAll over the trackers matching a filter", () => {
  it("exits each matching ACTIVE tracker once and yields one result per tracker", async () => {
    const world = exitWorld();
    await registerMany(world, 5, { segment: Segment.NSE_FNO }, "FNO");
    await registerMany(world, 3, { segment: Segment.NSE_EQ }, "EQ");
    const results = await collect(exitAll(world, { ...SQUARE_OFF, segment: Segment.NSE_FNO }));
    expect(results.map((r) => r.orderNo).sort()).toEqual(["FNO-0000", "FNO-0001", "FNO-0002", "FNO-0003", "FNO-0004"]);
    expect(results.every((r) => r.outcome.status === ExitStatus.EXITED)).toBe(true);
    expect((await trackersWith(world, TrackerStatus.ACTIVE)).map((t) => t.orderNo)).toEqual(["EQ-0000", "EQ-0001", "EQ-0002"]);
  });

  it("leaves live trackers alone when asked for paper ones", async () => {
    const world = exitWorld();
    await registerMany(world, 2, { paper: true }, "PAPER");
    await registerMany(world, 2, { paper: false }, "LIVE");
    const results = await collect(exitAll(world, { ...SQUARE_OFF, paper: true }));
    expect(results.map((r) => r.orderNo).sort()).toEqual(["PAPER-0000", "PAPER-0001"]);
  });

  it("runs at most max_parallel exits at once", async () => {
    const world = exitWorld({ faults: { latencyMs: 5 } });
    await registerMany(world, 20);
    let running = 0;
    let most = 0;
    const engine = {
      async execute(command: ExitCommand) {
        most = Math.max(most, ++running);
        try {
          return await world.engine.execute(command);
        } finally {
          running--;
        }
      },
    };
    const results = await collect(exitAll({ engine, store: world.store }, { ...SQUARE_OFF, maxParallel: 4 }));
    expect(results).toHaveLength(20);
    expect(most).toBe(4);
  });

  it("refuses a blank reason before exiting anything", async () => {
    const world = exitWorld();
    await registerMany(world, 2);
    const failure = await collect(exitAll(world, { ...SQUARE_OFF, reason: " " })).catch((error: unknown) => error);
    expect(isTradingCoreError(failure, "invalid-argument")).toBe(true);
    expect(await trackersWith(world, TrackerStatus.ACTIVE)).toHaveLength(2);
  });
});

describe("ExitAll over 500 trackers with router faults injected", () => {
  it("ends every tracker EXITED or reported, with never more than one order per tracker", { timeout: 240_000 }, async () => {
    const world = exitWorld({
      faults: { rejectRate: 0.1, lostReplyRate: 0.1, timeoutRate: 0.03 },
      random: seededRandom(20250102),
      settings: { routerTimeoutMs: 50 },
      watchBufferSize: 100_000,
    });
    await registerMany(world, 500);
    const audit = world.events.watch();
    const results = await collect(exitAll(world, { ...SQUARE_OFF, maxParallel: 16 }));
    expect(new Set(results.map((r) => r.orderNo)).size).toBe(500);

    const reconciler = world.reconciler();
    for (let pass = 0; pass < 40; pass++) {
      world.clock.advance(31_000);
      await reconciler.runOnce();
      if ((await trackersWith(world, TrackerStatus.EXITING)).length === 0 && reconciler.owedRetries === 0) break;
    }
    world.events.close();
    const events = await drain(audit, 1_000_000);

    expect(await trackersWith(world, TrackerStatus.EXITING)).toEqual([]);
    const rejectedInStream = new Set(results.filter((r) => r.outcome.status === ExitStatus.ROUTER_REJECTED).map((r) => r.orderNo));
    const reportedByReconciler = new Set(
      events.filter((e) => e.kind === ExitEventKind.RECONCILED && e.status === ExitStatus.ROUTER_REJECTED).map((e) => e.tracker.orderNo),
    );
    for (const tracker of await trackersWith(world, TrackerStatus.ACTIVE)) {
      expect(rejectedInStream.has(tracker.orderNo) || reportedByReconciler.has(tracker.orderNo), tracker.orderNo).toBe(true);
      expect(world.router.ordersFor(tracker.orderNo), tracker.orderNo).toBe(0);
    }
    const exited = await trackersWith(world, TrackerStatus.EXITED);
    for (const tracker of exited) expect(world.router.ordersFor(tracker.orderNo), tracker.orderNo).toBe(1);
    expect(exited.length).toBeGreaterThan(300);
    expect(reconciler.counters.exited).toBeGreaterThan(0);
  });
});

describe("ExitAll cancelled mid-stream", () => {
  it("starts no new exit after the abort and finishes every exit it had started", async () => {
    const world = exitWorld({ faults: { latencyMs: 2 } });
    await registerMany(world, 100);
    const controller = new AbortController();
    const results: ExitAllResult[] = [];
    for await (const result of exitAll(world, { ...SQUARE_OFF, maxParallel: 8 }, controller.signal)) {
      results.push(result);
      if (results.length === 10) controller.abort();
    }
    expect(await trackersWith(world, TrackerStatus.EXITING)).toEqual([]);
    const exited = await trackersWith(world, TrackerStatus.EXITED);
    expect(exited.map((t) => t.orderNo).sort()).toEqual(results.map((r) => r.orderNo).sort());
    expect(results.length).toBeLessThan(100);
  });

  it("finishes the exits in flight when the consumer stops reading", async () => {
    const world = exitWorld({ faults: { latencyMs: 2 } });
    await registerMany(world, 100);
    let read = 0;
    for await (const _ of exitAll(world, { ...SQUARE_OFF, maxParallel: 8 })) {
      if (++read === 5) break;
    }
    expect(await trackersWith(world, TrackerStatus.EXITING)).toEqual([]);
    const exited = (await trackersWith(world, TrackerStatus.EXITED)).length;
    expect(exited).toBeGreaterThanOrEqual(5);
    expect(exited).toBeLessThanOrEqual(5 + 8);
  });
});

describe("ExitAll when the store fails while listing", () => {
  it("yields the exits it started, then fails with unavailable", async () => {
    const world = exitWorld();
    await registerMany(world, 250);
    let pages = 0;
    const store = {
      async list(...args: Parameters<typeof world.store.list>) {
        if (++pages === 2) throw new Error("store unreachable (test)");
        return world.store.list(...args);
      },
    };
    const results: ExitAllResult[] = [];
    const failure = await (async () => {
      for await (const result of exitAll({ engine: world.engine, store }, SQUARE_OFF)) results.push(result);
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isTradingCoreError(failure, "unavailable")).toBe(true);
    expect(results).toHaveLength(200);
    expect(await trackersWith(world, TrackerStatus.EXITING)).toEqual([]);
    expect(await trackersWith(world, TrackerStatus.EXITED)).toHaveLength(200);
  });
});
