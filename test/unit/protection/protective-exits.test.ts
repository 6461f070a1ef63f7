/**
 * Protective exits over the in-memory adapters and a real exit engine: what
 * the book and the worker guarantee between a tick and the exit it fires.
 */
import { describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { ProtectionRule } from "../../../gen/tradingcore/v1/protection_pb.js";
import type { ExitPlan } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import { ProtectiveExits } from "../../../src/protection/protective-exits.js";
import { changeExitPlan } from "../../../src/protection/exit-plan-change.js";
import { MemoryProtectionStates } from "../../../src/store/memory-protection-states.js";
import { drain, exitWorld, type ExitWorld } from "../exit/exit-world.js";

const STALE_AFTER_MS = 5_000;
const STOP_AT_98: ExitPlan = { stopLoss: { kind: "price", value: new Money("98") }, version: 1 };

function protectiveExits(world: ExitWorld, states = new MemoryProtectionStates(() => world.clock.now()), parallel = 4, queued = 100) {
  return new ProtectiveExits(
    { engine: world.engine, store: world.store, states, events: world.events, clock: world.clock, log: world.log },
    { staleAfterMs: STALE_AFTER_MS, refreshMs: 1_000, flushMs: 100, parallel, queued, claimTtlMs: 30_000, retryMs: 1_000 },
  );
}

async function registerWithPlan(world: ExitWorld, orderNo: string, exitPlan: ExitPlan) {
  const { tracker } = await world.store.register(
    {
      orderNo,
      segment: Segment.NSE_EQ,
      securityId: "1333",
      symbol: "HDFCBANK",
      side: Side.LONG,
      quantity: new Money("10"),
      entryPrice: new Money("100"),
      status: TrackerStatus.ACTIVE,
      paper: true,
      meta: {},
      exitPlan,
    },
    world.clock.now(),
  );
  return tracker;
}

function tick(world: ExitWorld, ltp: string, timeMs = world.clock.now()) {
  const record = { segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money(ltp), timeMs };
  world.ticks.write([record]);
  return [record];
}

describe("ProtectiveExits on a tick that reaches a stop loss", () => {
  it("exits once with STOP_LOSS, announcing the trigger before the intent", async () => {
    const world = exitWorld();
    const protection = protectiveExits(world);
    protection.watch(await registerWithPlan(world, "SL-1", STOP_AT_98));
    const watch = world.events.watch({ orderNo: "SL-1" });
    protection.book.write(tick(world, "97.5"));
    protection.book.write(tick(world, "97"));
    await protection.worker.whenIdle();
    expect((await world.tracker("SL-1")).status).toBe(TrackerStatus.EXITED);
    expect((await world.tracker("SL-1")).exitReasonCode).toBe(ExitReasonCode.STOP_LOSS);
    expect((await world.tracker("SL-1")).trigger).toMatchObject({ rule: ProtectionRule.STOP_LOSS, planVersion: 1 });
    expect(world.router.ordersFor("SL-1")).toBe(1);
    const [triggered, intent] = await drain(watch, 2);
    expect(triggered?.kind).toBe(ExitEventKind.TRIGGERED);
    expect(triggered?.trigger?.tickPrice?.toFixed()).toBe("97.5");
    expect(intent?.kind).toBe(ExitEventKind.INTENT);
    expect(protection.book.size).toBe(0);
  });

  it("announces no trigger when the tracker was exited by hand before the trigger's exit ran", async () => {
    const world = exitWorld();
    const protection = protectiveExits(world);
    protection.watch(await registerWithPlan(world, "SL-H", STOP_AT_98));
    tick(world, "99");
    // The book is not told of the manual exit: it fires on what it holds, as a process of a fleet would.
    expect((await world.exit("SL-H", "closed by the strategy", ExitReasonCode.MANUAL)).status).toBe(ExitStatus.EXITED);
    const watch = world.events.watch({ orderNo: "SL-H" });
    protection.book.write(tick(world, "97"));
    await protection.worker.whenIdle();
    expect(protection.worker.counters.started).toBe(1);
    const marker = await world.tracker("SL-H");
    world.events.publish({
      kind: ExitEventKind.RECONCILED,
      tracker: marker,
      correlationId: "",
      timeMs: world.clock.now(),
      message: "marker",
    });
    const seen = await drain(watch, 1);
    expect(seen.map((event) => event.kind)).toEqual([ExitEventKind.RECONCILED]);
    expect(world.router.ordersFor("SL-H")).toBe(1);
    expect((await world.tracker("SL-H")).exitReasonCode).toBe(ExitReasonCode.MANUAL);
  });

  it("reads a protected tracker's state as the book holds it, before any write, and an exited one's as it left", async () => {
    const world = exitWorld();
    const states = new MemoryProtectionStates(() => world.clock.now());
    const protection = protectiveExits(world, states);
    const trail: ExitPlan = { trailingStop: { distance: { kind: "points", value: new Money("2") } }, version: 1 };
    const tracker = await registerWithPlan(world, "TS-1", trail);
    protection.watch(tracker);
    for (const price of ["100", "103", "106.5"]) protection.book.write(tick(world, price));
    expect((await states.get(["TS-1"])).size).toBe(0);
    expect((await protection.stateOf(tracker))?.trailLevel?.toFixed()).toBe("104.5");
    protection.book.write(tick(world, "104"));
    await protection.worker.whenIdle();
    expect((await world.tracker("TS-1")).status).toBe(TrackerStatus.EXITED);
    expect(protection.book.size).toBe(0);
    expect(await protection.stateOf(tracker)).toMatchObject({ trailArmed: true });
    expect((await protection.stateOf(tracker))?.trailHighWater?.toFixed()).toBe("106.5");
  });

  it("starts one exit when two processes fire the same trigger: the other loses the claim and never takes the lock", async () => {
    const world = exitWorld();
    const states = new MemoryProtectionStates(() => world.clock.now());
    const [a, b] = [protectiveExits(world, states), protectiveExits(world, states)];
    const tracker = await registerWithPlan(world, "SL-2", STOP_AT_98);
    a.watch(tracker);
    b.watch(tracker);
    const crossing = tick(world, "97");
    a.book.write(crossing);
    b.book.write(crossing);
    await Promise.all([a.worker.whenIdle(), b.worker.whenIdle()]);
    expect(a.worker.counters.started + b.worker.counters.started).toBe(1);
    expect(a.worker.counters.claimLost + b.worker.counters.claimLost).toBe(1);
    expect(world.router.ordersFor("SL-2")).toBe(1);
  });

  it("fires nothing for a tick older than the stale limit, or older than the last one of its instrument", async () => {
    const world = exitWorld();
    const protection = protectiveExits(world);
    protection.watch(await registerWithPlan(world, "SL-3", STOP_AT_98));
    world.clock.advance(60_000);
    protection.book.write(tick(world, "97", world.clock.now() - STALE_AFTER_MS - 1));
    protection.book.write(tick(world, "99", world.clock.now()));
    protection.book.write(tick(world, "97", world.clock.now() - 1));
    await protection.worker.whenIdle();
    expect(world.router.ordersFor("SL-3")).toBe(0);
    expect((await world.tracker("SL-3")).status).toBe(TrackerStatus.ACTIVE);
  });

  it("sends nothing when the plan changed after the tick was evaluated", async () => {
    const world = exitWorld();
    const tracker = await registerWithPlan(world, "SL-4", STOP_AT_98);
    await changeExitPlan(world.store, tracker, { stopLoss: { kind: "price", value: new Money("90") } }, tracker.version, world.clock.now());
    const outcome = await world.engine.execute({
      orderNo: "SL-4",
      reason: "stop loss at 98",
      reasonCode: ExitReasonCode.STOP_LOSS,
      trigger: { rule: ProtectionRule.STOP_LOSS, level: new Money("98"), tickPrice: new Money("97"), tickTimeMs: 1, planVersion: 1 },
    });
    expect(outcome.status).toBe(ExitStatus.NOT_ACTIVE);
    expect(outcome.message).toContain("exit plan changed");
    expect(world.router.ordersFor("SL-4")).toBe(0);
    expect((await world.tracker("SL-4")).status).toBe(TrackerStatus.ACTIVE);
  });

  it("protects a tracker the store holds after a refresh, with the stored state", async () => {
    const world = exitWorld();
    const states = new MemoryProtectionStates(() => world.clock.now());
    const plan: ExitPlan = { trailingStop: { distance: { kind: "points", value: new Money("2") } }, version: 1 };
    await registerWithPlan(world, "TR-1", plan);
    await states.advance("TR-1", Side.LONG, {
      planVersion: 1,
      trailArmed: true,
      trailHighWater: new Money("110"),
      trailLevel: new Money("108"),
      peakArmed: false,
      lastTickTimeMs: world.clock.now() - 1,
    });
    const restarted = protectiveExits(world, states);
    await restarted.sync.refresh();
    restarted.book.write(tick(world, "108"));
    await restarted.worker.whenIdle();
    expect((await world.tracker("TR-1")).trigger?.level?.toFixed()).toBe("108");
    expect(world.router.ordersFor("TR-1")).toBe(1);
  });

  it("refuses a trigger the full queue has no room for, and fires it on a later tick", async () => {
    const world = exitWorld();
    const protection = protectiveExits(world, undefined, 1, 1);
    for (const orderNo of ["Q-1", "Q-2", "Q-3"]) protection.watch(await registerWithPlan(world, orderNo, STOP_AT_98));
    protection.book.write(tick(world, "97"));
    expect(protection.worker.counters.refused).toBe(1);
    await protection.worker.whenIdle();
    const statuses = async () => Promise.all(["Q-1", "Q-2", "Q-3"].map(async (orderNo) => (await world.tracker(orderNo)).status));
    const first = await statuses();
    expect(first.filter((status) => status === TrackerStatus.EXITED)).toHaveLength(2);
    const refused = ["Q-1", "Q-2", "Q-3"][first.indexOf(TrackerStatus.ACTIVE)]!;
    world.clock.advance(1);
    protection.book.write(tick(world, "96.5"));
    await protection.worker.whenIdle();
    expect(await statuses()).toEqual([TrackerStatus.EXITED, TrackerStatus.EXITED, TrackerStatus.EXITED]);
    expect((await world.tracker(refused)).trigger?.tickPrice?.toFixed()).toBe("96.5");
  });
});
