import { describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus, ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { exitCorrelationId } from "../../../src/domain/exit-correlation-id.js";
import { Money } from "../../../src/domain/money.js";
import { TradingCoreError } from "../../../src/domain/trading-core-error.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import { ExitEngine } from "../../../src/exit/exit-engine.js";
import type { OwedExits } from "../../../src/exit/ports.js";
import type { ReconcilerSettings } from "../../../src/exit/reconciler.js";
import { NO_FAULTS } from "../../../src/router/paper-router.js";
import { MemoryOwedExits } from "../../../src/store/memory-owed-exits.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { drain, type ExitWorld, exitWorld, TEST_ENGINE_SETTINGS } from "./exit-world.js";
import { untilTrue } from "../../support/until.js";

const GRACE_MS = 10_000;

function reconcilerOf(world: ExitWorld, settings: Partial<ReconcilerSettings> = {}, owedExits?: OwedExits) {
  return world.reconciler({ ...(owedExits ? { owedExits } : {}), settings: { graceMs: GRACE_MS, retryBudget: 3, ...settings } });
}

/** Exits with the broker's reply lost: the order is placed as the faults say, the engine learns nothing. */
async function exitWithLostReply(world: ExitWorld, orderNo: string, faults: { rejectRate?: number } = {}) {
  world.router.faults = { ...NO_FAULTS, lostReplyRate: 1, ...faults };
  const outcome = await world.exit(orderNo);
  world.router.faults = NO_FAULTS;
  return outcome;
}

describe("Reconciler when the exit order traded but its reply was lost", () => {
  it("leaves the tracker EXITING with OUTCOME_UNKNOWN first", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    const outcome = await exitWithLostReply(world, "ORD-1");
    expect(outcome.status).toBe(ExitStatus.OUTCOME_UNKNOWN);
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITING);
  });

  it("marks the tracker EXITED with the fill price, with one order in total", async () => {
    const world = exitWorld();
    await world.register("ORD-1", { ltp: "101.55" });
    await exitWithLostReply(world, "ORD-1");
    world.clock.advance(GRACE_MS + 1);
    const pass = await reconcilerOf(world).runOnce();
    const tracker = await world.tracker("ORD-1");
    expect(tracker.status).toBe(TrackerStatus.EXITED);
    expect(tracker.exitPrice?.toFixed()).toBe("101.55");
    expect(tracker.exitedQuantity.toFixed()).toBe("100");
    expect(world.router.ordersFor("ORD-1")).toBe(1);
    expect(pass).toMatchObject({ examined: 1, exited: 1 });
  });

  it("publishes a RECONCILED event after the EXITED the fill made", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1");
    const watch = world.events.watch({ orderNo: "ORD-1" });
    world.clock.advance(GRACE_MS + 1);
    await reconcilerOf(world).runOnce();
    world.events.close();
    const kinds = (await drain(watch, 10)).map((e) => e.kind);
    expect(kinds).toEqual([ExitEventKind.EXITED, ExitEventKind.RECONCILED]);
  });

  it("changes nothing on a second pass", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1");
    world.clock.advance(GRACE_MS + 1);
    const reconciler = reconcilerOf(world);
    await reconciler.runOnce();
    const before = await world.tracker("ORD-1");
    const sequence = world.events.lastSequence;
    const second = await reconciler.runOnce();
    expect(second.examined).toBe(0);
    expect(await world.tracker("ORD-1")).toEqual(before);
    expect(world.events.lastSequence).toBe(sequence);
  });
});

describe("Reconciler with an intent younger than the grace period", () => {
  it("leaves it alone", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1");
    world.clock.advance(GRACE_MS - 1);
    const pass = await reconcilerOf(world).runOnce();
    expect(pass.examined).toBe(0);
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITING);
  });

  it("resolves it on a start-up pass, which ignores the grace period", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1");
    await reconcilerOf(world).runOnce({ ignoreGrace: true });
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITED);
  });
});

describe("Reconciler when the exit order was rejected", () => {
  it("reverts the tracker to ACTIVE, never CANCELLED, and retries it to EXITED", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1", { rejectRate: 1 });
    world.clock.advance(GRACE_MS + 1);
    const pass = await reconcilerOf(world).runOnce();
    const tracker = await world.tracker("ORD-1");
    expect(tracker.status).toBe(TrackerStatus.EXITED);
    expect(tracker.exitAttempt).toBe(2);
    expect(tracker.exitCorrelationId).toBe(exitCorrelationId(await world.tracker("ORD-1"), 2));
    expect(world.router.ordersFor("ORD-1")).toBe(1);
    expect(pass).toMatchObject({ reverted: 1, retried: 1, exited: 1 });
  });

  it("reports the exit and leaves it ACTIVE once the retry budget is spent", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1", { rejectRate: 1 });
    world.router.faults = { ...NO_FAULTS, rejectRate: 1 };
    const watch = world.events.watch({ orderNo: "ORD-1" });
    world.clock.advance(GRACE_MS + 1);
    const reconciler = reconcilerOf(world, { retryBudget: 2 });
    for (let pass = 0; pass < 4; pass++) await reconciler.runOnce();
    const tracker = await world.tracker("ORD-1");
    expect(tracker.status).toBe(TrackerStatus.ACTIVE);
    expect(tracker.exitAttempt).toBe(3);
    expect(reconciler.counters).toMatchObject({ retried: 2, retriesExhausted: 1 });
    expect(reconciler.owedRetries).toBe(0);
    expect(world.log.lines.some((l) => l.level === "error" && /retry budget exhausted/.test(l.message))).toBe(true);
    world.events.close();
    const last = (await drain(watch, 100)).at(-1);
    expect(last).toMatchObject({ kind: ExitEventKind.RECONCILED, status: ExitStatus.ROUTER_REJECTED });
    expect(world.router.ordersFor("ORD-1")).toBe(0);
  });
});

describe("Reconciler after a restart, with the owed retries of the process before it", () => {
  /** ORD-1 refused after the system answered for it, and refused once more on the first process's retry. */
  async function refusedTwice(owedExits: OwedExits, retryBudget: number) {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1", { rejectRate: 1 });
    world.router.faults = { ...NO_FAULTS, rejectRate: 1 };
    world.clock.advance(GRACE_MS + 1);
    const before = reconcilerOf(world, { retryBudget }, owedExits);
    expect(await before.runOnce()).toMatchObject({ reverted: 1, retried: 1 });
    await before.stop();
    await new Promise((resolve) => setImmediate(resolve));
    world.router.faults = NO_FAULTS;
    return world;
  }

  it("retries the exit the earlier process owed, to EXITED, and then owes nothing", async () => {
    const owedExits = new MemoryOwedExits();
    const world = await refusedTwice(owedExits, 3);
    expect(await owedExits.all()).toEqual(new Map([["ORD-1", 1]]));
    const after = reconcilerOf(world, {}, owedExits);
    expect(await after.runOnce()).toMatchObject({ retried: 1, exited: 1 });
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITED);
    expect(world.router.ordersFor("ORD-1")).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await owedExits.all()).toEqual(new Map());
  });

  it("counts the retries the earlier process used against the budget: none is placed past it", async () => {
    const owedExits = new MemoryOwedExits();
    const world = await refusedTwice(owedExits, 1);
    const after = reconcilerOf(world, { retryBudget: 1 }, owedExits);
    expect(await after.runOnce()).toMatchObject({ retried: 0, retriesExhausted: 1 });
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.ACTIVE);
    expect(world.router.ordersFor("ORD-1")).toBe(0);
    expect(world.log.lines.some((l) => l.level === "error" && /retry budget exhausted/.test(l.message))).toBe(true);
  });

  it("retries nothing it was not told about: without the record, the refused exit stays ACTIVE", async () => {
    const world = await refusedTwice(new MemoryOwedExits(), 3);
    expect(await reconcilerOf(world).runOnce()).toMatchObject({ retried: 0 });
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.ACTIVE);
  });
});

describe("Reconciler when the exit order traded 40 of 100 and the rest was cancelled", () => {
  async function partlyFilled() {
    const world = exitWorld();
    await world.register("ORD-1", { quantity: "100", ltp: "101.5" });
    world.router.faults = { ...NO_FAULTS, lostReplyRate: 1 };
    // the paper router fills at the reference price; without one the order stays PENDING
    world.ticks.write([
      { segment: (await world.tracker("ORD-1")).segment, securityId: "1333", ltp: new Money("101.5"), timeMs: world.clock.now() },
    ]);
    await world.exit("ORD-1");
    world.router.faults = NO_FAULTS;
    world.router.updateOrder(exitCorrelationId(await world.tracker("ORD-1"), 1), {
      status: BrokerOrderStatus.CANCELLED,
      tradedQuantity: new Money(40),
      averagePrice: new Money("101"),
    });
    world.clock.advance(GRACE_MS + 1);
    return world;
  }

  it("records exited_quantity 40 and exits only the residual 60", async () => {
    const world = await partlyFilled();
    const pass = await reconcilerOf(world).runOnce();
    const second = await world.router.findOrder(exitCorrelationId(await world.tracker("ORD-1"), 2));
    expect(second?.quantity.toFixed()).toBe("60");
    expect(pass).toMatchObject({ reverted: 1, partlyExited: 1, retried: 1, exited: 1 });
  });

  it("ends EXITED with 100 exited at the average of both fills", async () => {
    const world = await partlyFilled();
    await reconcilerOf(world).runOnce();
    const tracker = await world.tracker("ORD-1");
    expect(tracker.status).toBe(TrackerStatus.EXITED);
    expect(tracker.exitedQuantity.toFixed()).toBe("100");
    // 40 × 101 + 60 × 101.5 = 10130 over 100
    expect(tracker.exitPrice?.toFixed()).toBe("101.3");
  });

  it("keeps the 40 when the residual is refused too", async () => {
    const world = await partlyFilled();
    world.router.faults = { ...NO_FAULTS, rejectRate: 1 };
    await reconcilerOf(world, { retryBudget: 1 }).runOnce();
    const tracker = await world.tracker("ORD-1");
    expect(tracker.status).toBe(TrackerStatus.ACTIVE);
    expect(tracker.exitedQuantity.toFixed()).toBe("40");
    expect(tracker.exitPrice?.toFixed()).toBe("101");
  });
});

describe("Reconciler when the broker never received the order", () => {
  it("waits until the engine's deadline, then places the next attempt", async () => {
    const world = exitWorld({ settings: { ...TEST_ENGINE_SETTINGS, routerTimeoutMs: 50 } });
    await world.register("ORD-1");
    world.router.faults = { ...NO_FAULTS, timeoutRate: 1 };
    expect((await world.exit("ORD-1")).status).toBe(ExitStatus.OUTCOME_UNKNOWN);
    world.router.faults = NO_FAULTS;
    const reconciler = reconcilerOf(world);
    world.clock.advance(GRACE_MS + 1);
    expect(await reconciler.runOnce()).toMatchObject({ examined: 1, unresolved: 1 });
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITING);
    world.clock.advance(30_000);
    expect(await reconciler.runOnce()).toMatchObject({ replaced: 1, exited: 1 });
    const tracker = await world.tracker("ORD-1");
    expect(tracker).toMatchObject({ status: TrackerStatus.EXITED, exitAttempt: 2 });
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});

describe("Reconciler when an order_no comes back after its tracker store was rebuilt", () => {
  it("does not take the earlier tracker's traded order for the new one's: the new position gets its own order", async () => {
    const world = exitWorld({ settings: { ...TEST_ENGINE_SETTINGS, routerTimeoutMs: 50 } });
    await world.register("ORD-1");
    expect((await world.exit("ORD-1")).status).toBe(ExitStatus.EXITED);
    const earlier = await world.tracker("ORD-1");

    // The next day, on an empty store, the strategy registers ORD-1 again; its first intent is stored but never reaches the broker.
    world.clock.advance(24 * 3_600_000);
    const rebuilt = new MemoryTrackerStore();
    const engine = new ExitEngine({ ...engineDeps(world), store: rebuilt });
    const { tracker: again } = await rebuilt.register({ ...earlier, status: TrackerStatus.ACTIVE, meta: {} }, world.clock.now());
    world.router.faults = { ...NO_FAULTS, timeoutRate: 1 };
    expect((await engine.execute({ orderNo: "ORD-1", reason: "stop loss hit", reasonCode: earlier.exitReasonCode })).status).toBe(
      ExitStatus.OUTCOME_UNKNOWN,
    );
    world.router.faults = NO_FAULTS;
    const intent = (await rebuilt.get("ORD-1"))!;
    expect(intent.exitCorrelationId).not.toBe(earlier.exitCorrelationId);

    world.clock.advance(GRACE_MS + 30_001);
    const reconciler = world.reconciler({ engine, store: rebuilt, settings: { graceMs: GRACE_MS } });
    await reconciler.runOnce();
    const exited = (await rebuilt.get("ORD-1"))!;
    expect(exited).toMatchObject({ status: TrackerStatus.EXITED, exitAttempt: 2 });
    expect(again.createdAt).toBeGreaterThan(earlier.createdAt);
    // One order for the earlier position, one for this one: nothing taken over, nothing lost.
    expect(world.router.ordersFor("ORD-1")).toBe(2);
    expect((await world.router.findOrder(exited.exitCorrelationId))?.quantity.toFixed()).toBe("100");
  });
});

/** A store whose EXITING → EXITED writes fail a given number of times. */
class FailingExitWrites extends MemoryTrackerStore {
  constructor(public failuresLeft: number) {
    super();
  }
  override async compareAndSet(next: TrackerRecord, expectedVersion: number) {
    if (next.status === TrackerStatus.EXITED && this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new TradingCoreError("unavailable", "store unreachable (test)");
    }
    return super.compareAndSet(next, expectedVersion);
  }
}

describe("Reconciler after the order was accepted but the tracker update failed", () => {
  it("finishes the PENDING_RECONCILE intent as EXITED with one order", async () => {
    const store = new FailingExitWrites(4);
    const world = exitWorld({ store });
    await world.register("ORD-1");
    const outcome = await world.exit("ORD-1");
    expect(outcome.status).toBe(ExitStatus.PENDING_RECONCILE);
    world.clock.advance(GRACE_MS + 1);
    await reconcilerOf(world).runOnce();
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITED);
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});

describe("Reconciler after a restart", () => {
  it("resolves the previous process's intent by the same correlation id, with one order", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1");
    await world.engine.whenIdle(); // the previous process stopped: its shutdown waited for its lock release
    const restarted = new ExitEngine(engineDeps(world));
    await world.reconciler({ engine: restarted }).runOnce({
      ignoreGrace: true,
    });
    const tracker = await world.tracker("ORD-1");
    expect(tracker).toMatchObject({
      status: TrackerStatus.EXITED,
      exitAttempt: 1,
      exitCorrelationId: exitCorrelationId(await world.tracker("ORD-1"), 1),
    });
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});

describe("ExecuteExit on a tracker whose outcome is unknown", () => {
  it("resumes the intent and places no new order", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    await exitWithLostReply(world, "ORD-1");
    const again = await world.exit("ORD-1");
    expect(again.status).toBe(ExitStatus.EXITED);
    expect((await world.tracker("ORD-1")).exitAttempt).toBe(1);
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});

describe("Reconciler started and stopped", () => {
  it("stops cleanly while idle and runs no pass afterwards", async () => {
    const world = exitWorld();
    const reconciler = reconcilerOf(world, { intervalMs: 1 });
    reconciler.start();
    await untilTrue(() => reconciler.counters.passes >= 2, "two reconciler passes", { timeoutMs: 10_000, pollMs: 5 });
    await reconciler.stop();
    const passes = reconciler.counters.passes;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reconciler.counters.passes).toBe(passes);
  });
});

function engineDeps(world: ExitWorld) {
  return {
    store: world.store,
    lock: world.lock,
    ltp: { resolve: async () => ({ found: true, price: new Money("101.5"), source: 1, ageMs: 0, stale: false }) },
    router: world.router,
    clock: world.clock,
    events: world.events,
    log: world.log,
    settings: TEST_ENGINE_SETTINGS,
  };
}

/** Waits, polling, until `done` holds; fails the test after 10 s. */
