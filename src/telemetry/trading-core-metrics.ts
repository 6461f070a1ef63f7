/**
 * The metrics of DESIGN section 6, as OpenTelemetry instruments on one meter.
 *
 * Names and attributes (durations in ms):
 * - `tradingcore.exits` counter {exit.status, exit.path: execute|resolve}
 * - `tradingcore.exit.duration` histogram {exit.status, exit.path}
 * - `tradingcore.exits.in_flight` up-down counter {exit.path}
 * - `tradingcore.lock.acquire.duration` histogram {lock.result: acquired|busy|unavailable|error}
 * - `tradingcore.lock.acquire.failures` counter {lock.result: busy|unavailable|error}
 * - `tradingcore.ltp.lookups` counter {ltp.source, ltp.stale}
 * - `tradingcore.reconciler.actions` observable counter {reconciler.action}
 *
 * Built on a no-op meter (no SDK), every method costs a function call.
 * Attributes carry enum names and kinds only, never order numbers or secrets
 * (high-cardinality or sensitive values belong on spans, not metrics).
 */
import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";
import { ExitStatus, PriceSource } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";

/** Bucket bounds for sub-millisecond to multi-second latencies, ms. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Which engine entry point ran the exit: a client's ExecuteExit, or the resolution of a stored intent. */
export type ExitPath = "execute" | "resolve";

export type LockResult = "acquired" | "busy" | "unavailable" | "error";

export class TradingCoreMetrics {
  private readonly exits: Counter;
  private readonly exitDuration: Histogram;
  private readonly exitsInFlight: UpDownCounter;
  private readonly lockDuration: Histogram;
  private readonly lockFailures: Counter;
  private readonly ltpLookups: Counter;

  constructor(private readonly meter: Meter) {
    this.exits = meter.createCounter("tradingcore.exits", { description: "exits finished, by ExitStatus" });
    this.exitDuration = meter.createHistogram("tradingcore.exit.duration", {
      description: "time from the start of an exit to its outcome",
      unit: "ms",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    this.exitsInFlight = meter.createUpDownCounter("tradingcore.exits.in_flight", { description: "exits running now" });
    this.lockDuration = meter.createHistogram("tradingcore.lock.acquire.duration", {
      description: "time to acquire (or fail to acquire) an exit lock",
      unit: "ms",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    this.lockFailures = meter.createCounter("tradingcore.lock.acquire.failures", { description: "exit lock acquisitions that did not get the lock" });
    this.ltpLookups = meter.createCounter("tradingcore.ltp.lookups", { description: "LTP look-ups, by the source that answered and staleness" });
  }

  /** Counts an exit as in flight; call the returned function once with its outcome (undefined when it threw). */
  exitStarted(path: ExitPath): (outcome: ExitOutcome | undefined) => void {
    const started = performance.now();
    const inFlight = { "exit.path": path };
    this.exitsInFlight.add(1, inFlight);
    return (outcome) => {
      this.exitsInFlight.add(-1, inFlight);
      const attributes: Attributes = { "exit.path": path, "exit.status": outcome ? (ExitStatus[outcome.status] ?? String(outcome.status)) : "ERROR" };
      this.exits.add(1, attributes);
      this.exitDuration.record(performance.now() - started, attributes);
    };
  }

  lockAcquired(result: LockResult, durationMs: number): void {
    this.lockDuration.record(durationMs, { "lock.result": result });
    if (result !== "acquired") this.lockFailures.add(1, { "lock.result": result });
  }

  ltpLookedUp(source: PriceSource, stale: boolean): void {
    this.ltpLookups.add(1, { "ltp.source": PriceSource[source] ?? String(source), "ltp.stale": stale });
  }

  /**
   * Publishes the reconciler's running totals per action (e.g. its
   * `counters` getter) as `tradingcore.reconciler.actions`, read at each
   * collection. Call once, when the reconciler is built.
   */
  observeReconciler(totals: () => Readonly<Record<string, number>>): void {
    this.meter
      .createObservableCounter("tradingcore.reconciler.actions", { description: "what the reconciler did to stale exit intents, by action" })
      .addCallback((result) => {
        for (const [action, count] of Object.entries(totals())) result.observe(count, { "reconciler.action": action });
      });
  }
}
