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
 * - `tradingcore.ltp.hop_misses` counter {ltp.source}: hops that failed or missed their budget
 * - `tradingcore.reconciler.actions` observable counter {reconciler.action}
 *   (including `overdue` live orders and `duplicates` found for superseded attempts)
 * - `tradingcore.router.lookup_alarms` observable counter {lookup.alarm: unrecognised-status|failing}
 *
 * Counters and the in-flight gauge are kept here and read at each collection
 * (see Tally); histograms are the SDK's. Built on a no-op meter (no SDK),
 * every method costs a function call and a Map update.
 * Attributes carry enum names and kinds only, never order numbers or secrets
 * (high-cardinality or sensitive values belong on spans, not metrics).
 */
import type { Attributes, Histogram, Meter, ObservableResult } from "@opentelemetry/api";
import { ExitStatus, PriceSource } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";

/** Bucket bounds for sub-millisecond to multi-second latencies, ms. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Which engine entry point ran the exit: a client's ExecuteExit, or the resolution of a stored intent. */
export type ExitPath = "execute" | "resolve";

export type LockResult = "acquired" | "busy" | "unavailable" | "error";

/**
 * Running totals by attribute set, reported to the SDK at each collection
 * (observable instruments). Counting here costs a Map update; a synchronous
 * SDK counter would serialize and sort the attributes on every add, which at
 * several adds per exit was a tenth of a traced exit's CPU.
 */
class Tally {
  private readonly totals = new Map<string, { readonly attributes: Attributes; value: number }>();

  add(key: string, attributesOf: () => Attributes, by = 1): void {
    const total = this.totals.get(key);
    if (total) total.value += by;
    else this.totals.set(key, { attributes: attributesOf(), value: by });
  }

  report(result: ObservableResult): void {
    for (const { attributes, value } of this.totals.values()) result.observe(value, attributes);
  }
}

export class TradingCoreMetrics {
  private readonly exits = new Tally();
  private readonly exitsInFlight = new Tally();
  private readonly lockFailures = new Tally();
  private readonly ltpLookups = new Tally();
  private readonly ltpHopMisses = new Tally();
  private readonly exitDuration: Histogram;
  private readonly lockDuration: Histogram;
  /** Attribute objects of the histograms, one per set, so a record allocates none. */
  private readonly attributeSets = new Map<string, Attributes>();

  constructor(private readonly meter: Meter) {
    meter
      .createObservableCounter("tradingcore.exits", { description: "exits finished, by ExitStatus" })
      .addCallback((result) => this.exits.report(result));
    this.exitDuration = meter.createHistogram("tradingcore.exit.duration", {
      description: "time from the start of an exit to its outcome",
      unit: "ms",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    meter
      .createObservableUpDownCounter("tradingcore.exits.in_flight", { description: "exits running now" })
      .addCallback((result) => this.exitsInFlight.report(result));
    this.lockDuration = meter.createHistogram("tradingcore.lock.acquire.duration", {
      description: "time to acquire (or fail to acquire) an exit lock",
      unit: "ms",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    meter
      .createObservableCounter("tradingcore.lock.acquire.failures", { description: "exit lock acquisitions that did not get the lock" })
      .addCallback((result) => this.lockFailures.report(result));
    meter
      .createObservableCounter("tradingcore.ltp.lookups", { description: "LTP look-ups, by the source that answered and staleness" })
      .addCallback((result) => this.ltpLookups.report(result));
    meter
      .createObservableCounter("tradingcore.ltp.hop_misses", { description: "LTP hops that failed or missed their time budget, by source" })
      .addCallback((result) => this.ltpHopMisses.report(result));
  }

  ltpHopMissed(source: PriceSource): void {
    this.ltpHopMisses.add(String(source), () => ({ "ltp.source": PriceSource[source] ?? String(source) }));
  }

  /** Counts an exit as in flight; call the returned function once with its outcome (undefined when it threw). */
  exitStarted(path: ExitPath): (outcome: ExitOutcome | undefined) => void {
    const started = performance.now();
    const inFlight = () => ({ "exit.path": path });
    this.exitsInFlight.add(path, inFlight, 1);
    return (outcome) => {
      this.exitsInFlight.add(path, inFlight, -1);
      const status = outcome ? (ExitStatus[outcome.status] ?? String(outcome.status)) : "ERROR";
      const key = `${path} ${status}`;
      const attributes = this.attributeSet(key, () => ({ "exit.path": path, "exit.status": status }));
      this.exits.add(key, () => attributes);
      this.exitDuration.record(performance.now() - started, attributes);
    };
  }

  lockAcquired(result: LockResult, durationMs: number): void {
    const attributes = this.attributeSet(result, () => ({ "lock.result": result }));
    this.lockDuration.record(durationMs, attributes);
    if (result !== "acquired") this.lockFailures.add(result, () => attributes);
  }

  ltpLookedUp(source: PriceSource, stale: boolean): void {
    this.ltpLookups.add(stale ? `${source} stale` : String(source), () => ({
      "ltp.source": PriceSource[source] ?? String(source),
      "ltp.stale": stale,
    }));
  }

  /**
   * Publishes the reconciler's running totals per action (e.g. its
   * `counters` getter) as `tradingcore.reconciler.actions`, read at each
   * collection. Call once, when the reconciler is built.
   */
  observeReconciler(totals: () => Readonly<Record<string, number>>): void {
    this.meter
      .createObservableCounter("tradingcore.reconciler.actions", {
        description: "what the reconciler did to stale exit intents, by action",
      })
      .addCallback((result) => {
        for (const [action, count] of Object.entries(totals())) result.observe(count, { "reconciler.action": action });
      });
  }

  /**
   * Publishes the order look-up alarms (the engine's `lookupAlarms`) as
   * `tradingcore.router.lookup_alarms` {lookup.alarm: unrecognised-status|failing}.
   */
  observeLookupAlarms(totals: () => Readonly<Record<string, number>>): void {
    this.meter
      .createObservableCounter("tradingcore.router.lookup_alarms", {
        description: "order look-ups alarmed: a status the router does not recognise, or a run of failed look-ups",
      })
      .addCallback((result) => {
        for (const [reason, count] of Object.entries(totals())) result.observe(count, { "lookup.alarm": reason });
      });
  }

  private attributeSet(key: string, build: () => Attributes): Attributes {
    let attributes = this.attributeSets.get(key);
    if (!attributes) this.attributeSets.set(key, (attributes = build()));
    return attributes;
  }
}
