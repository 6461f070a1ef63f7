/**
 * The trackers this process protects, indexed by instrument, and the
 * evaluation of every published tick against them. A TickSink: ingest
 * hands it each batch and never waits for it; a rule that fires is handed
 * to `onTrigger` (a bounded worker) and the book moves on.
 *
 * Per instrument, trackers with fixed levels only (stop loss, take profit)
 * sit in two sorted arrays and a tick finds those it reaches in
 * O(log n + k); trackers with a trail or a peak are moved by every tick
 * that leaves their quiet band (quiet-band.ts), evaluated exactly then.
 *
 * Invariants:
 * - A tick older than the last one evaluated for its instrument, or older
 *   than `staleAfterMs` on the clock, moves nothing and fires nothing.
 * - Only ticks that arrive after a tracker is watched are evaluated for it:
 *   no exit before the first tick after its plan was set.
 * - A tracker fires once: until `settle`, a tracker handed to the worker is
 *   not handed again (`release` re-arms it, after `retryAfterMs`).
 * - State only moves forward (evaluateTick, mergeProtectionState).
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitTrigger, ProtectionState } from "../domain/exit-plan.js";
import { freshProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { TickRecord, TickSink } from "../ticks/tick.js";
import { mergeProtectionState } from "./protection-state-merge.js";
import { compilePriceRules, hasMovingRules, type PriceRules } from "./price-rules.js";
import { SortedLevels } from "./sorted-levels.js";
import { evaluateTick } from "./tick-evaluation.js";
import { isQuiet, type QuietBand, quietBand } from "./quiet-band.js";

/** One protected tracker as the book holds it. */
export interface WatchedTracker {
  /** The tracker as last read or written here (its exit attempt, plan). */
  tracker: TrackerRecord;
  readonly rules: PriceRules;
  state: ProtectionState;
  /** The state moved since it was last persisted. */
  dirty: boolean;
  /** Handed to the worker and not settled or released yet. */
  firing: boolean;
  /** Epoch ms before which a released tracker is not handed again. */
  retryAfterMs: number;
  /** Prices at which a tick certainly changes nothing (quiet-band.ts). */
  quiet: QuietBand;
  /**
   * The best of the ticks that only raised an armed trail (new highs that reach nothing), not applied
   * to `state` yet: in a trending market most ticks are such, and only the last of a run matters.
   * Applied (exactly) before the next other tick is evaluated and whenever the state is read.
   */
  pending?: { readonly price: Money; readonly timeMs: number; readonly approximate: number } | undefined;
  /** The take profit as a double, for the checks above. */
  readonly takeProfitApprox?: number;
  /** The instrument's trackers it belongs to, whose shared band its changes invalidate. */
  home?: InstrumentTrackers | undefined;
}

export type TriggerHandler = (watched: WatchedTracker, trigger: ExitTrigger) => boolean;

class InstrumentTrackers {
  lastTickTimeMs = Number.NEGATIVE_INFINITY;
  /** Fire when the price falls to the level: a LONG's stop loss, a SHORT's take profit. */
  readonly falling = new SortedLevels<WatchedTracker>();
  /** Fire when the price rises to the level: a LONG's take profit, a SHORT's stop loss. */
  readonly rising = new SortedLevels<WatchedTracker>();
  readonly moving = new Set<WatchedTracker>();
  /**
   * The prices quiet for every moving tracker here (the intersection of their bands), or undefined
   * when a member changed since it was computed: a tick inside it skips the loop over them.
   */
  band: QuietBand | undefined;

  get size(): number {
    return this.falling.size + this.rising.size + this.moving.size;
  }
}

export interface ProtectionBookSettings {
  /** A tick older than this on the clock fires nothing, ms. */
  readonly staleAfterMs: number;
}

export class ProtectionBook implements TickSink {
  private readonly instruments = new Map<string, InstrumentTrackers>();
  private readonly watched = new Map<string, WatchedTracker>();

  constructor(
    private readonly settings: ProtectionBookSettings,
    private readonly now: () => number,
    private readonly onTrigger: TriggerHandler,
  ) {}

  /** Trackers protected now. */
  get size(): number {
    return this.watched.size;
  }

  get(orderNo: string): WatchedTracker | undefined {
    const watched = this.watched.get(orderNo);
    if (watched) this.applyPending(watched);
    return watched;
  }

  orderNos(): string[] {
    return [...this.watched.keys()];
  }

  /**
   * Protects `tracker` (ACTIVE, with price rules) from the next tick on, with
   * `stored` state if the store has one for its plan version. A tracker
   * already watched under the same plan keeps its place and merges `stored`.
   */
  watch(tracker: TrackerRecord, stored?: ProtectionState): void {
    const current = this.watched.get(tracker.orderNo);
    // The same plan again (every refresh): nothing to compile, only the snapshot and the stored state to take.
    if (current && current.rules.planVersion === tracker.exitPlan?.version) {
      if (tracker.version >= current.tracker.version) current.tracker = tracker;
      if (stored) {
        this.applyPending(current);
        current.state = mergeProtectionState(stored, current.state, tracker.side);
        current.quiet = quietBand(current.rules, current.state);
        if (current.home) current.home.band = undefined;
      }
      return;
    }
    const rules = compilePriceRules(tracker);
    if (!rules) {
      if (current) this.unwatch(tracker.orderNo);
      return;
    }
    if (current && current.rules.planVersion > rules.planVersion) return;
    if (current) this.unwatch(tracker.orderNo);
    const state = stored && stored.planVersion === rules.planVersion ? stored : freshProtectionState(rules.planVersion);
    const watched: WatchedTracker = {
      tracker,
      rules,
      state,
      dirty: false,
      firing: false,
      retryAfterMs: 0,
      quiet: quietBand(rules, state),
      ...(rules.takeProfit ? { takeProfitApprox: rules.takeProfit.toNumber() } : {}),
    };
    this.watched.set(tracker.orderNo, watched);
    this.place(watched, true);
  }

  /** Stops protecting `orderNo` (exited, plan removed, gone); only if it is still `only`, when given. */
  unwatch(orderNo: string, only?: WatchedTracker): void {
    const watched = this.watched.get(orderNo);
    if (!watched || (only && watched !== only)) return;
    this.watched.delete(orderNo);
    this.place(watched, false);
  }

  /** A tracker handed to the worker may fire again from `retryAfterMs` on (its exit did not happen). */
  release(orderNo: string, retryAfterMs: number, tracker?: TrackerRecord, only?: WatchedTracker): void {
    const watched = this.watched.get(orderNo);
    if (!watched || (only && watched !== only)) return;
    watched.firing = false;
    watched.retryAfterMs = retryAfterMs;
    if (watched.home) watched.home.band = undefined;
    if (tracker && tracker.version >= watched.tracker.version) watched.tracker = tracker;
  }

  /** The trackers whose state moved since `takeDirty` last ran, marked clean. */
  takeDirty(): WatchedTracker[] {
    const dirty: WatchedTracker[] = [];
    for (const watched of this.watched.values()) {
      if (!watched.dirty) continue;
      this.applyPending(watched);
      watched.dirty = false;
      dirty.push(watched);
    }
    return dirty;
  }

  write(ticks: readonly TickRecord[]): void {
    const nowMs = this.now();
    for (const tick of ticks) {
      const trackers = this.instruments.get(`${tick.segment}:${tick.securityId}`);
      if (!trackers || tick.timeMs < trackers.lastTickTimeMs) continue;
      trackers.lastTickTimeMs = tick.timeMs;
      if (nowMs - tick.timeMs > this.settings.staleAfterMs) continue;
      this.evaluate(trackers, tick.ltp, tick.ltpApprox ?? tick.ltp.toNumber(), tick.timeMs, nowMs);
    }
  }

  private evaluate(trackers: InstrumentTrackers, price: Money, approximate: number, timeMs: number, nowMs: number): void {
    const reached = (watched: WatchedTracker) => this.evaluateOne(watched, price, timeMs, nowMs);
    trackers.falling.forEachAtOrAbove(price, reached, approximate);
    trackers.rising.forEachAtOrBelow(price, reached, approximate);
    if (trackers.moving.size === 0) return;
    trackers.band ??= sharedBand(trackers.moving);
    if (isQuiet(trackers.band, approximate)) return;
    // Some tracker may change: the shared band is computed again on the next tick.
    trackers.band = undefined;
    for (const watched of trackers.moving) {
      // Most ticks change nothing for most trackers: compared as doubles, with a margin, before any decimal work.
      if (watched.pending === undefined && isQuiet(watched.quiet, approximate)) continue;
      if (this.onlyRaisesTrail(watched, approximate)) {
        watched.pending = { price, timeMs, approximate };
        watched.dirty = true;
        continue;
      }
      this.applyPending(watched);
      this.evaluateOne(watched, price, timeMs, nowMs);
    }
  }

  /**
   * True when a tick at `approximate` certainly does nothing but raise the armed trail of a
   * tracker with no peak rule: beyond its best price and short of its take profit, by the margin.
   */
  private onlyRaisesTrail(watched: WatchedTracker, approximate: number): boolean {
    const { rules, state } = watched;
    if (watched.firing || !rules.trailing || rules.peak || !state.trailArmed) return false;
    const long = rules.side === Side.LONG;
    // The best price so far: the pending one, else the band's profit-side edge (the high-water mark).
    const best = watched.pending?.approximate ?? (long ? watched.quiet.high : watched.quiet.low);
    const margin = 1e-9 * Math.abs(approximate);
    if (!(long ? approximate > best + margin : approximate < best - margin)) return false;
    const takeProfit = watched.takeProfitApprox;
    return takeProfit === undefined || (long ? approximate < takeProfit - margin : approximate > takeProfit + margin);
  }

  /** Applies the pending best price, exactly; it reaches nothing (onlyRaisesTrail), so it fires nothing. */
  private applyPending(watched: WatchedTracker): void {
    const pending = watched.pending;
    if (!pending) return;
    watched.pending = undefined;
    watched.state = evaluateTick(watched.rules, watched.state, pending.price, pending.timeMs).state;
    watched.quiet = quietBand(watched.rules, watched.state);
    if (watched.home) watched.home.band = undefined;
  }

  private evaluateOne(watched: WatchedTracker, price: Money, timeMs: number, nowMs: number): void {
    if (watched.firing) return;
    if (watched.state.lastTickTimeMs !== undefined && timeMs < watched.state.lastTickTimeMs) return;
    const evaluation = evaluateTick(watched.rules, watched.state, price, timeMs);
    watched.state = evaluation.state;
    watched.quiet = quietBand(watched.rules, evaluation.state);
    if (evaluation.moved) watched.dirty = true;
    if (!evaluation.trigger || nowMs < watched.retryAfterMs) return;
    watched.firing = true;
    watched.dirty = true;
    if (!this.onTrigger(watched, evaluation.trigger)) watched.firing = false;
  }

  /** Adds (`on`) or removes the tracker from its instrument's indexes. */
  private place(watched: WatchedTracker, on: boolean): void {
    const { tracker, rules } = watched;
    const key = `${tracker.segment}:${tracker.securityId}`;
    let trackers = this.instruments.get(key);
    if (!trackers) {
      if (!on) return;
      trackers = new InstrumentTrackers();
      this.instruments.set(key, trackers);
    }
    trackers.band = undefined;
    watched.home = on ? trackers : undefined;
    if (hasMovingRules(rules)) {
      if (on) trackers.moving.add(watched);
      else trackers.moving.delete(watched);
    } else {
      const long = rules.side === Side.LONG;
      const levels: Array<[Money | undefined, SortedLevels<WatchedTracker>]> = [
        [rules.stopLoss, long ? trackers.falling : trackers.rising],
        [rules.takeProfit, long ? trackers.rising : trackers.falling],
      ];
      for (const [level, sorted] of levels) {
        if (!level) continue;
        if (on) sorted.add(level, watched);
        else sorted.remove(level, watched);
      }
    }
    if (!on && trackers.size === 0) this.instruments.delete(key);
  }
}

/** The intersection of the moving trackers' quiet bands; empty while one has a pending price. Firing ones are skipped either way. */
function sharedBand(moving: ReadonlySet<WatchedTracker>): QuietBand {
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  for (const watched of moving) {
    if (watched.firing) continue;
    if (watched.pending) return { low: 0, high: 0 };
    if (watched.quiet.low > low) low = watched.quiet.low;
    if (watched.quiet.high < high) high = watched.quiet.high;
  }
  return { low, high };
}
