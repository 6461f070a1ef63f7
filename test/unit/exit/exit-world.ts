/**
 * The exit engine wired to the in-memory adapters, with a clock the test
 * moves by hand: the arrangement every lifecycle test starts from.
 */
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import { ExitEngine, type ExitEngineSettings } from "../../../src/exit/exit-engine.js";
import { ExitEventHub, type SequencedExitEvent } from "../../../src/exit/exit-event-hub.js";
import type { Clock, ExitLock, ExitLog, WriteConfirmation } from "../../../src/exit/ports.js";
import { InProcessLock } from "../../../src/lock/in-process-lock.js";
import { Reconciler, type ReconcilerDeps } from "../../../src/exit/reconciler.js";
import { PaperRouter, type PaperRouterFaults } from "../../../src/router/paper-router.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { FallbackLtpResolver } from "../../../src/ticks/fallback-ltp-resolver.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";

/** Time moves only when the test says so, or when the code under test sleeps. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.parse("2025-01-02T09:15:00Z")) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.ms += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Keeps what was logged, so tests can read it. */
export class MemoryLog implements ExitLog {
  readonly lines: Array<{ level: "info" | "warn" | "error"; fields: object; message: string }> = [];
  info(fields: object, message: string): void {
    this.lines.push({ level: "info", fields, message });
  }
  warn(fields: object, message: string): void {
    this.lines.push({ level: "warn", fields, message });
  }
  error(fields: object, message: string): void {
    this.lines.push({ level: "error", fields, message });
  }
}

export interface ExitWorldOptions {
  readonly faults?: Partial<PaperRouterFaults>;
  readonly random?: () => number;
  readonly settings?: Partial<ExitEngineSettings>;
  readonly watchBufferSize?: number;
  /** A store to use instead of a fresh MemoryTrackerStore (e.g. one that injects faults). */
  readonly store?: MemoryTrackerStore;
  /** A lock to use instead of a fresh InProcessLock. */
  readonly lock?: ExitLock;
  /** Confirms the store's writes reached its replicas; every write is confirmed when absent. */
  readonly confirmation?: WriteConfirmation;
}

export const TEST_ENGINE_SETTINGS: Partial<ExitEngineSettings> = {
  routerTimeoutMs: 200,
  unknownOrderGraceMs: 30_000,
  trackerUpdateBackoffMs: 1,
  notPlacedBackoffMs: 1,
};

export function exitWorld(options: ExitWorldOptions = {}) {
  const clock = new ManualClock();
  const store = options.store ?? new MemoryTrackerStore();
  const lock = options.lock ?? new InProcessLock(() => clock.now());
  const router = new PaperRouter({
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.random ? { random: options.random } : {}),
    now: () => clock.now(),
  });
  const ticks = new MemoryTickCache();
  const ltp = new FallbackLtpResolver([ticks], { hopTimeoutMs: 1_000, staleAfterMs: 3_600_000 }, () => clock.now());
  const events = new ExitEventHub(options.watchBufferSize);
  const log = new MemoryLog();
  const engine = new ExitEngine({
    store,
    lock,
    ltp,
    router,
    clock,
    events,
    log,
    ...(options.confirmation ? { confirmation: options.confirmation } : {}),
    settings: { ...TEST_ENGINE_SETTINGS, ...options.settings },
  });

  async function register(
    orderNo: string,
    spec: { quantity?: string; securityId?: string; segment?: Segment; paper?: boolean; ltp?: string | null } = {},
  ): Promise<TrackerRecord> {
    const securityId = spec.securityId ?? "1333";
    const segment = spec.segment ?? Segment.NSE_EQ;
    const { tracker } = await store.register(
      {
        orderNo,
        segment,
        securityId,
        symbol: "HDFCBANK",
        side: Side.LONG,
        quantity: new Money(spec.quantity ?? "100"),
        entryPrice: new Money("100"),
        status: TrackerStatus.ACTIVE,
        paper: spec.paper ?? true,
        meta: {},
      },
      clock.now(),
    );
    if (spec.ltp !== null) ticks.write([{ segment, securityId, ltp: new Money(spec.ltp ?? "101.5"), timeMs: clock.now() }]);
    return tracker;
  }

  function exit(orderNo: string, reason = "stop loss hit", reasonCode = ExitReasonCode.STOP_LOSS) {
    return engine.execute({ orderNo, reason, reasonCode });
  }

  async function tracker(orderNo: string): Promise<TrackerRecord> {
    const found = await store.get(orderNo);
    if (!found) throw new Error(`test setup: no tracker ${orderNo}`);
    return found;
  }

  /** A reconciler over this world's engine, store, clock, events and log; `more` adds to or replaces them. */
  function reconciler(more: Partial<ReconcilerDeps> = {}): Reconciler {
    return new Reconciler({ engine, store, clock, events, log, ...more });
  }

  return { clock, store, lock, router, ticks, events, log, engine, register, exit, tracker, reconciler };
}

export type ExitWorld = ReturnType<typeof exitWorld>;

/** Reads what a watch has buffered, without waiting for more. */
export async function drain(watch: AsyncIterableIterator<SequencedExitEvent>, count: number): Promise<SequencedExitEvent[]> {
  const seen: SequencedExitEvent[] = [];
  for (let i = 0; i < count; i++) {
    const next = await watch.next();
    if (next.done) break;
    seen.push(next.value);
  }
  return seen;
}

/** A random source that answers the given values in turn, then 0.99 (no fault) forever. */
export function scripted(...values: number[]): () => number {
  let i = 0;
  return () => (i < values.length ? values[i++]! : 0.99);
}
