/**
 * The dead-man switch's watchdog over the in-memory world: what a lapse
 * exits, how often, and what it leaves alone.
 */
import { describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { SessionLapseAction } from "../../../gen/tradingcore/v1/session_pb.js";
import { Money } from "../../../src/domain/money.js";
import { exitLockResource } from "../../../src/exit/exit-engine.js";
import { SessionWatchdog } from "../../../src/session/session-watchdog.js";
import { MemorySessionStore } from "../../../src/store/memory-session-store.js";
import { exitWorld, type ExitWorld } from "../exit/exit-world.js";

const TTL = 5_000;
const RETRY = 30_000;

function watchdogOf(world: ExitWorld, sessions: MemorySessionStore) {
  return new SessionWatchdog({
    sessions,
    store: world.store,
    engine: world.engine,
    clock: world.clock,
    events: world.events,
    log: world.log,
    settings: { intervalMs: 1_000, lapseRetryMs: RETRY, maxParallel: 2 },
  });
}

async function registerUnder(
  world: ExitWorld,
  sessions: MemorySessionStore,
  orderNo: string,
  sessionId: string,
  recordedUnder = sessionId,
) {
  await sessions.attach(recordedUnder, orderNo, world.clock.now());
  await world.store.register(
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
      sessionId,
    },
    world.clock.now(),
  );
  world.ticks.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money("101"), timeMs: world.clock.now() }]);
}

describe("SessionWatchdog when a session lapses", () => {
  it("exits each of its trackers once, however many watchdogs share the store", async () => {
    const world = exitWorld();
    const sessions = new MemorySessionStore();
    await sessions.open({ sessionId: "s1", ttlMs: TTL, lapseAction: SessionLapseAction.EXIT_ALL }, world.clock.now());
    const orderNos = ["A1", "A2", "A3", "A4", "A5"];
    for (const orderNo of orderNos) await registerUnder(world, sessions, orderNo, "s1");
    world.clock.advance(TTL);
    const passes = await Promise.all([watchdogOf(world, sessions).runOnce(), watchdogOf(world, sessions).runOnce()]);
    expect(passes.map((pass) => pass.claimed).sort()).toEqual([0, 1]);
    for (const orderNo of orderNos) {
      expect(await world.tracker(orderNo)).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.SESSION_LAPSED });
      expect(world.router.ordersFor(orderNo)).toBe(1);
    }
  });

  it("takes a refused exit up again after the retry delay, and settles once it is flat", async () => {
    const world = exitWorld({ faults: { rejectRate: 1 } });
    const sessions = new MemorySessionStore();
    const watchdog = watchdogOf(world, sessions);
    await sessions.open({ sessionId: "s2", ttlMs: TTL, lapseAction: SessionLapseAction.EXIT_ALL }, world.clock.now());
    await registerUnder(world, sessions, "B1", "s2");
    world.clock.advance(TTL);
    expect(await watchdog.runOnce()).toMatchObject({ claimed: 1, unsettled: 1, exits: { ROUTER_REJECTED: 1 } });
    world.router.faults = { ...world.router.faults, rejectRate: 0 };
    world.clock.advance(RETRY - 1);
    expect((await watchdog.runOnce()).claimed).toBe(0);
    world.clock.advance(1);
    expect(await watchdog.runOnce()).toMatchObject({ claimed: 1, unsettled: 0, exits: { EXITED: 1 } });
    world.clock.advance(RETRY);
    expect((await watchdog.runOnce()).claimed).toBe(0);
  });

  it("logs an exit held up by another holder of its lock as a warning, and a refused one as an error", async () => {
    const world = exitWorld({ faults: { rejectRate: 1 } });
    const sessions = new MemorySessionStore();
    await sessions.open({ sessionId: "s5", ttlMs: TTL, lapseAction: SessionLapseAction.EXIT_ALL }, world.clock.now());
    await registerUnder(world, sessions, "E1", "s5");
    await registerUnder(world, sessions, "E2", "s5");
    // Another process holds E1's exit lock (an exit of its own, or it died holding it).
    expect((await world.lock.acquire(exitLockResource("E1"), 60_000)).kind).toBe("acquired");
    world.clock.advance(TTL);
    const pass = await watchdogOf(world, sessions).runOnce();
    expect(pass).toMatchObject({ claimed: 1, unsettled: 1 });
    const notDone = world.log.lines.filter((line) => line.message === "session lapse exit not done; retried later");
    expect(notDone.map((line) => [(line.fields as { orderNo: string }).orderNo, line.level]).sort()).toEqual([
      ["E1", "warn"],
      ["E2", "error"],
    ]);
  });

  it("sends nothing for a tracker recorded under the session but registered under another", async () => {
    const world = exitWorld();
    const sessions = new MemorySessionStore();
    for (const sessionId of ["s3", "other"]) {
      await sessions.open({ sessionId, ttlMs: TTL, lapseAction: SessionLapseAction.EXIT_ALL }, world.clock.now());
    }
    await registerUnder(world, sessions, "C1", "other", "s3");
    world.clock.advance(TTL - 1);
    await sessions.heartbeat("other", world.clock.now());
    world.clock.advance(1);
    expect(await watchdogOf(world, sessions).runOnce()).toMatchObject({ claimed: 1, exits: { NOT_ACTIVE: 1 }, unsettled: 0 });
    expect((await world.tracker("C1")).status).toBe(TrackerStatus.ACTIVE);
    expect(world.router.ordersFor("C1")).toBe(0);
  });
});
