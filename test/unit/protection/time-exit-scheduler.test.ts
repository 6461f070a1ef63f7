/**
 * The time-exit scheduler over the in-memory world: what it fires, and what
 * it must not, when a plan changes behind its back or an exit is refused.
 */
import { describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ExitPlan } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import { TimeExitScheduler } from "../../../src/protection/time-exit-scheduler.js";
import { dueKey } from "../../../src/protection/time-rules.js";
import { MemoryDueTimes } from "../../../src/store/memory-due-times.js";
import { exitWorld, type ExitWorld } from "../exit/exit-world.js";

const MINUTE = 60_000;
const RETRY = 30_000;

function schedulerOf(world: ExitWorld, due = new MemoryDueTimes()) {
  const scheduler = new TimeExitScheduler({
    due,
    store: world.store,
    engine: world.engine,
    clock: world.clock,
    events: world.events,
    log: world.log,
    settings: { intervalMs: 1_000, retryMs: RETRY, sessionEndDefaults: new Map() },
  });
  return { scheduler, due };
}

async function registerWithPlan(world: ExitWorld, orderNo: string, exitPlan: ExitPlan) {
  const { tracker } = await world.store.register(
    {
      orderNo,
      segment: Segment.IDX_I,
      securityId: "13",
      symbol: "NIFTY",
      side: Side.LONG,
      quantity: new Money("75"),
      entryPrice: new Money("100"),
      status: TrackerStatus.ACTIVE,
      paper: true,
      meta: {},
      exitPlan,
    },
    world.clock.now(),
  );
  world.ticks.write([{ segment: Segment.IDX_I, securityId: "13", ltp: new Money("101"), timeMs: world.clock.now() }]);
  return tracker;
}

const afterMinutes = (minutes: number): ExitPlan => ({ timeExit: { kind: "after", afterMs: minutes * MINUTE }, version: 1 });

describe("TimeExitScheduler when the plan changes after its due time was recorded", () => {
  it("sends nothing for a rule the stored plan no longer has, and forgets it", async () => {
    const world = exitWorld();
    const { scheduler, due } = schedulerOf(world);
    const tracker = await registerWithPlan(world, "A", afterMinutes(1));
    await scheduler.watch(tracker);
    // Changed in the store without the scheduler being told (another process, a crash before it was).
    await world.store.compareAndSet(
      { ...tracker, exitPlan: { stopLoss: { kind: "points", value: new Money("5") }, version: 2 } },
      tracker.version,
    );
    world.clock.advance(MINUTE);
    await scheduler.runOnce();
    expect((await world.tracker("A")).status).toBe(TrackerStatus.ACTIVE);
    expect(world.router.ordersFor("A")).toBe(0);
    expect(await due.dueTimeOf(dueKey("TIME_EXIT", "A"))).toBeUndefined();
  });

  it("schedules a rule the stored plan moved later again, and fires it then", async () => {
    const world = exitWorld();
    const { scheduler, due } = schedulerOf(world);
    const tracker = await registerWithPlan(world, "B", afterMinutes(1));
    await scheduler.watch(tracker);
    await world.store.compareAndSet({ ...tracker, exitPlan: { ...afterMinutes(10), version: 2 } }, tracker.version);
    world.clock.advance(MINUTE);
    await scheduler.runOnce();
    expect(world.router.ordersFor("B")).toBe(0);
    expect(await due.dueTimeOf(dueKey("TIME_EXIT", "B"))).toBe(tracker.createdAt + 10 * MINUTE);
    world.clock.advance(9 * MINUTE);
    await scheduler.runOnce();
    expect(await world.tracker("B")).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.TIME_BASED });
  });
});

describe("TimeExitScheduler when the plan changes while the exit takes its lock", () => {
  it("decides on the plan stored under the lock and sends nothing", async () => {
    const world = exitWorld();
    const { scheduler } = schedulerOf(world);
    const tracker = await registerWithPlan(world, "E", afterMinutes(1));
    await scheduler.watch(tracker);
    const get = world.store.get.bind(world.store);
    let reads = 0;
    // The exit's own load (the second read) answers the old plan; the plan is removed right after it.
    world.store.get = async (orderNo) => {
      const read = await get(orderNo);
      if (orderNo === "E" && ++reads === 2) await world.store.compareAndSet({ ...read!, exitPlan: undefined }, read!.version);
      return read;
    };
    world.clock.advance(MINUTE);
    const pass = await scheduler.runOnce();
    expect(pass.exits).toEqual({ NOT_ACTIVE: 1 });
    expect(world.router.ordersFor("E")).toBe(0);
    expect(await world.tracker("E")).toMatchObject({ status: TrackerStatus.ACTIVE, exitAttempt: 0 });
  });
});

describe("TimeExitScheduler when the exit is refused", () => {
  it("fires again after the retry delay, and stops once the tracker is flat", async () => {
    const world = exitWorld({ faults: { rejectRate: 1 } });
    const { scheduler, due } = schedulerOf(world);
    await scheduler.watch(await registerWithPlan(world, "C", afterMinutes(1)));
    world.clock.advance(MINUTE);
    await scheduler.runOnce();
    expect((await world.tracker("C")).status).toBe(TrackerStatus.ACTIVE);
    world.router.faults = { ...world.router.faults, rejectRate: 0 };
    world.clock.advance(RETRY - 1);
    await scheduler.runOnce();
    expect((await world.tracker("C")).status).toBe(TrackerStatus.ACTIVE);
    world.clock.advance(1);
    await scheduler.runOnce();
    expect((await world.tracker("C")).status).toBe(TrackerStatus.EXITED);
    expect(await due.dueTimeOf(dueKey("TIME_EXIT", "C"))).toBeUndefined();
  });
});

describe("TimeExitScheduler with several schedulers on one store of due times", () => {
  it("sends one order per due time", async () => {
    const world = exitWorld();
    const due = new MemoryDueTimes();
    const schedulers = [schedulerOf(world, due).scheduler, schedulerOf(world, due).scheduler, schedulerOf(world, due).scheduler];
    for (const orderNo of ["D1", "D2", "D3", "D4"]) await schedulers[0]!.watch(await registerWithPlan(world, orderNo, afterMinutes(1)));
    world.clock.advance(MINUTE);
    const passes = await Promise.all(schedulers.map((scheduler) => scheduler.runOnce()));
    expect(passes.reduce((sum, pass) => sum + pass.fired, 0)).toBe(4);
    for (const orderNo of ["D1", "D2", "D3", "D4"]) expect(world.router.ordersFor(orderNo)).toBe(1);
  });
});
