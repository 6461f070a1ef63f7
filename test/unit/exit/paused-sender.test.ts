/**
 * The paused sender (a GC stall, a stopped VM): process A stores its intent
 * and starts its router call, then stops for longer than the lock TTL and
 * the unknown-order grace; process B's reconciler finds the broker does not
 * know the order and sends the next attempt; then A resumes. Two engines
 * share a store, a lock and a paper order book, on one manual clock.
 */
import { describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import { ExitEngine, type ExitEngineSettings } from "../../../src/exit/exit-engine.js";
import { ExitEventHub, type SequencedExitEvent } from "../../../src/exit/exit-event-hub.js";
import type { ExitOrderRequest, OrderRouter } from "../../../src/exit/ports.js";
import { Reconciler } from "../../../src/exit/reconciler.js";
import { InProcessLock } from "../../../src/lock/in-process-lock.js";
import { MemoryPaperOrderBook } from "../../../src/router/memory-paper-order-book.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { MemorySupersededAttempts } from "../../../src/store/memory-superseded-attempts.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { FallbackLtpResolver } from "../../../src/ticks/fallback-ltp-resolver.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import { HeldRouter } from "../../support/held-router.js";
import { ManualClock, MemoryLog } from "./exit-world.js";

/** The timings: lock TTL 1.5 s, router timeout 4 s, grace 16 s, pause 18.6 s. */
const SETTINGS: Partial<ExitEngineSettings> = {
  lockTtlMs: 1_500,
  routerTimeoutMs: 4_000,
  unknownOrderGraceMs: 16_000,
  sendDeadlineMarginMs: 2_000,
};
const PAUSE_MS = 18_600;

/** A router adapter that does not check the send deadline: what the duplicate check exists for. */
class CarelessRouter implements OrderRouter {
  constructor(private readonly inner: PaperRouter) {}
  availability() {
    return this.inner.availability();
  }
  placeExitOrder(order: ExitOrderRequest, signal: AbortSignal) {
    return this.inner.placeExitOrder({ ...order, sendDeadlineMs: Number.MAX_SAFE_INTEGER }, signal);
  }
  findOrder(correlationId: string) {
    return this.inner.findOrder(correlationId);
  }
}

function twoProcesses(options: { careless?: boolean } = {}) {
  const clock = new ManualClock();
  const now = () => clock.now();
  const store = new MemoryTrackerStore();
  const lock = new InProcessLock(now);
  const book = new MemoryPaperOrderBook();
  const ticks = new MemoryTickCache();
  const ltp = new FallbackLtpResolver([ticks], { hopTimeoutMs: 1_000, staleAfterMs: 3_600_000 }, now);
  const events = new ExitEventHub();
  const log = new MemoryLog();
  const superseded = new MemorySupersededAttempts();
  const heldA = new HeldRouter({ orderBook: book, now });
  const routerA = options.careless ? new CarelessRouter(heldA) : heldA;
  const routerB = new PaperRouter({ orderBook: book, now });
  const engine = (router: OrderRouter) => new ExitEngine({ store, lock, ltp, router, clock, events, log, superseded, settings: SETTINGS });
  const engineA = engine(routerA);
  const engineB = engine(routerB);
  const reconcilerB = new Reconciler({
    engine: engineB,
    store,
    router: routerB,
    superseded,
    clock,
    events,
    log,
    settings: { graceMs: 10_000 },
  });
  return { clock, store, book, ticks, events, log, heldA, engineA, reconcilerB };
}

async function pausedInsideTheRouterCall(world: ReturnType<typeof twoProcesses>) {
  await world.store.register(
    {
      orderNo: "ORD-1",
      segment: Segment.NSE_EQ,
      securityId: "1333",
      symbol: "HDFCBANK",
      side: Side.LONG,
      quantity: new Money("100"),
      entryPrice: new Money("100"),
      status: TrackerStatus.ACTIVE,
      paper: true,
      meta: {},
    },
    world.clock.now(),
  );
  world.ticks.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money("101.5"), timeMs: world.clock.now() }]);
  const answerOfA = world.engineA.execute({ orderNo: "ORD-1", reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });
  await world.heldA.untilHeld(1);
  const intent = (await world.store.get("ORD-1"))!;
  world.clock.advance(PAUSE_MS);
  const reconciled = await world.reconcilerB.runOnce();
  return { answerOfA, intent, reconciled };
}

describe("A process paused inside its router call for longer than the lock TTL and the unknown-order grace", () => {
  it("stored the lease's end as the send deadline, before the router timeout", async () => {
    const world = twoProcesses();
    const { intent } = await pausedInsideTheRouterCall(world);
    expect(intent.status).toBe(TrackerStatus.EXITING);
    expect(intent.exitSendDeadline).toBe(intent.exitRequestedAt! + 1_500);
    world.heldA.release();
  });

  it("lets the other process place attempt 2, and the resumed process sends nothing: exactly one order", async () => {
    const world = twoProcesses();
    const { answerOfA, reconciled } = await pausedInsideTheRouterCall(world);
    expect(reconciled).toMatchObject({ examined: 1, replaced: 1, exited: 1 });
    world.heldA.release();
    await answerOfA;
    expect(await world.book.acceptedFor("ORD-1")).toBe(1);
    expect(await world.store.get("ORD-1")).toMatchObject({
      status: TrackerStatus.EXITED,
      exitAttempt: 2,
      exitedQuantity: new Money("100"),
      exitPrice: new Money("101.5"),
    });
  });

  it("has the resumed process answer the truth: ALREADY_EXITED, not OUTCOME_UNKNOWN", async () => {
    const world = twoProcesses();
    const { answerOfA } = await pausedInsideTheRouterCall(world);
    world.heldA.release();
    const answer = await answerOfA;
    expect(answer.status).toBe(ExitStatus.ALREADY_EXITED);
    expect(answer.success).toBe(true);
    expect(answer.tracker).toMatchObject({ status: TrackerStatus.EXITED, exitAttempt: 2 });
  });

  it("finds no duplicate for the superseded attempt on later passes", async () => {
    const world = twoProcesses();
    const { answerOfA } = await pausedInsideTheRouterCall(world);
    world.heldA.release();
    await answerOfA;
    const later = await world.reconcilerB.runOnce();
    expect(later.duplicates).toBe(0);
    expect((await world.store.get("ORD-1"))?.overExitedQuantity).toBeUndefined();
  });
});

describe("A late duplicate from an adapter that ignores the send deadline", () => {
  it("is found by the reconciler, shouted (error log, DUPLICATE_ORDER event) and recorded as over-exited, never compensated", async () => {
    const world = twoProcesses({ careless: true });
    const { answerOfA } = await pausedInsideTheRouterCall(world);
    const watch = world.events.watch({ orderNo: "ORD-1" });
    world.heldA.release();
    await answerOfA;
    expect(await world.book.acceptedFor("ORD-1")).toBe(2);
    const pass = await world.reconcilerB.runOnce();
    expect(pass.duplicates).toBe(1);
    const tracker = (await world.store.get("ORD-1"))!;
    expect(tracker.overExitedQuantity?.toFixed()).toBe("100");
    expect(tracker).toMatchObject({ status: TrackerStatus.EXITED, exitedQuantity: new Money("100"), exitAttempt: 2 });
    expect(world.log.lines.some((line) => line.level === "error" && /DUPLICATE exit order/.test(line.message))).toBe(true);
    world.events.close();
    const kinds: ExitEventKind[] = [];
    for await (const event of watch as AsyncIterable<SequencedExitEvent>) kinds.push(event.kind);
    expect(kinds).toContain(ExitEventKind.DUPLICATE_ORDER);
    const again = await world.reconcilerB.runOnce();
    expect(again.duplicates).toBe(0);
    expect((await world.store.get("ORD-1"))?.overExitedQuantity?.toFixed()).toBe("100");
  });
});
