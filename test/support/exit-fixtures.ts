/** Small builders shared by tests: a tracker spec, a quiet log, an engine on given adapters. */
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../src/domain/money.js";
import type { TrackerRecord, TrackerSpec } from "../../src/domain/tracker.js";
import type { ExitCommand } from "../../src/exit/exit-command.js";
import { ExitEngine, type ExitEngineSettings } from "../../src/exit/exit-engine.js";
import type { ExitEventRecord, ExitLock, ExitLog, LtpResolver, OrderRouter, TrackerStore } from "../../src/exit/ports.js";
import { systemClock } from "../../src/exit/system-clock.js";
import { FallbackLtpResolver } from "../../src/ticks/fallback-ltp-resolver.js";
import { MemoryTickCache } from "../../src/ticks/memory-tick-cache.js";

export function trackerSpec(orderNo: string, overrides: Partial<TrackerSpec> = {}): TrackerSpec {
  return {
    orderNo,
    segment: Segment.NSE_EQ,
    securityId: "1333",
    symbol: "HDFCBANK",
    side: Side.LONG,
    quantity: new Money("10"),
    entryPrice: new Money("1500.55"),
    status: TrackerStatus.ACTIVE,
    paper: true,
    meta: { strategy: "test" },
    ...overrides,
  };
}

export function exitCommand(orderNo: string): ExitCommand {
  return { orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS };
}

export const quietLog: ExitLog = { info() {}, warn() {}, error() {} };

export function ltpResolverWith(cache = new MemoryTickCache()): LtpResolver {
  return new FallbackLtpResolver([cache], { hopTimeoutMs: 1_000, staleAfterMs: 60_000 }, () => Date.now());
}

export function engineOn(adapters: {
  store: TrackerStore;
  lock: ExitLock;
  router: OrderRouter;
  ltp?: LtpResolver;
  events?: ExitEventRecord[];
  settings?: Partial<ExitEngineSettings>;
}): ExitEngine {
  return new ExitEngine({
    ...(adapters.settings ? { settings: adapters.settings } : {}),
    store: adapters.store,
    lock: adapters.lock,
    router: adapters.router,
    ltp: adapters.ltp ?? ltpResolverWith(),
    clock: systemClock,
    events: { publish: (event) => adapters.events?.push(event) },
    log: quietLog,
  });
}

/** Blocks this process's event loop for `ms`, as a GC pause or a stopped VM would: no timer, no I/O runs. */
export function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Resolves when the signal aborts; rejects after `ms` so a test cannot hang on it. */
export function abortedWithin(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`signal not aborted within ${ms} ms`)), ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve(signal.reason)), { once: true });
  });
}

/** The tracker as an exit's intent would store it: EXITING, its next attempt, a newer fencing token. */
export function intentOf(tracker: TrackerRecord): TrackerRecord {
  return {
    ...tracker,
    status: TrackerStatus.EXITING,
    exitAttempt: tracker.exitAttempt + 1,
    exitCorrelationId: `corr-${tracker.orderNo}-${tracker.exitAttempt + 1}`,
    exitReason: "stop loss hit",
    exitReasonCode: ExitReasonCode.STOP_LOSS,
    fencingToken: tracker.fencingToken + 1,
  };
}

/** Writes `next` over `expectedVersion` and answers it as stored; anything but "written" fails the test. */
export async function written(store: TrackerStore, next: TrackerRecord, expectedVersion: number): Promise<TrackerRecord> {
  const outcome = await store.compareAndSet(next, expectedVersion);
  if (outcome.kind !== "written") throw new Error(`not written: ${outcome.kind}`);
  return outcome.tracker;
}
