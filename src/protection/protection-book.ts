/**
 * The trackers this process protects, indexed by instrument, and the
 * evaluation of every published tick against them. Fed by the tick cache
 * (TickSubscriptions: the cache's own look-up of each tick's instrument
 * finds the book's trackers too, so a tick costs the book no look-up of its
 * own), or as a TickSink; ingest never waits for it. A rule that fires is
 * handed to `onTrigger` (a bounded worker) and the book moves on.
 *
 * A tick that reaches no level and leaves every trail and peak of its
 * instrument as it is (most ticks) is done with at once: it changes nothing,
 * stale or not, so it needs no clock. The clock is read once per write, at
 * its first tick that needs it (a clock read costs more than the rest of a
 * quiet tick).
 *
 * Per instrument, trackers with fixed levels only (stop loss, take profit)
 * sit in two sorted arrays and a tick finds those it reaches in
 * O(log n + k); trackers with a trail or a peak are moved by every tick
 * that leaves their quiet band (quiet-band.ts), evaluated exactly then.
 *
 * A tick allocates nothing here unless it changes a state (an exact
 * evaluation): instruments are found by segment then security id (no key
 * string), the sorted levels answer index ranges (no callback), a run of new
 * highs is kept in the tracker's own fields, or once for all the trailing
 * stops of an instrument (instrument-trackers.ts), and the trackers whose
 * state moved are kept in a set, so that a flush visits those alone.
 *
 * Invariants:
 * - A tick older than the last one evaluated for its instrument, or older
 *   than `staleAfterMs` on the clock, moves nothing and fires nothing.
 * - Only ticks that arrive after a tracker is watched are evaluated for it:
 *   no exit before the first tick after its plan was set.
 * - A tracker fires once: until `settle`, a tracker handed to the worker is
 *   not handed again (`release` re-arms it, after `retryAfterMs`).
 * - State only moves forward (evaluateTick, mergeProtectionState).
 * - A state read here (get, takeDirty, adopt) or evaluated includes every
 *   tick taken for it: a pending new high, or its instrument's run, is
 *   applied first, exactly as the tick-by-tick evaluation would have.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitTrigger, ProtectionState } from "../domain/exit-plan.js";
import { freshProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { TickRecord, TickSink, TickSubscriptions } from "../ticks/tick.js";
import { mergeProtectionState } from "./protection-state-merge.js";
import { compilePriceRules, hasMovingRules } from "./price-rules.js";
import { InstrumentTrackers } from "./instrument-trackers.js";
import { bestPriceApprox, isArmedLoneTrail, type WatchedTracker } from "./watched-tracker.js";
import type { SortedLevels } from "./sorted-levels.js";
import { evaluateTick, raiseTrail } from "./tick-evaluation.js";
import { followedTrailBand, isQuiet, quietBand, raisedTrailBand } from "./quiet-band.js";

export type { WatchedTracker };

export type TriggerHandler = (watched: WatchedTracker, trigger: ExitTrigger) => boolean;
/** Takes the last state of a tracker that leaves the book with moves not written yet (pending prices applied). */
export type LeaveHandler = (watched: WatchedTracker, state: ProtectionState) => void;

export interface ProtectionBookSettings {
  /** A tick older than this on the clock fires nothing, ms. */
  readonly staleAfterMs: number;
}

export class ProtectionBook implements TickSink {
  /**
   * Indexed by segment (a small enum: an array slot, not a hashed probe), then by security id: a tick
   * finds its instrument without building a key.
   */
  private readonly instruments: Array<Map<string, InstrumentTrackers> | undefined> = [];
  private readonly watched = new Map<string, WatchedTracker>();
  /** Instruments that may have a run of new highs on (instrument-trackers.ts), ended at every flush; let go of when emptied. */
  private readonly running = new Set<InstrumentTrackers>();
  /** The watched trackers whose `dirty` is set. */
  private readonly dirtyTrackers = new Set<WatchedTracker>();
  /** The clock as read for the write under way, once one of its ticks needed it. */
  private writeNowMs: number | undefined;

  /** `feed`: where the book subscribes to its instruments' ticks; without it, ticks come through `write`. */
  constructor(
    private readonly settings: ProtectionBookSettings,
    private readonly now: () => number,
    private readonly onTrigger: TriggerHandler,
    private readonly onLeave: LeaveHandler = () => {},
    private readonly feed?: TickSubscriptions,
  ) {
    feed?.onWrite(() => this.startWrite());
  }

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
        current.basis = stored;
        current.quiet = quietBand(current.rules, current.state);
        if (current.home) current.home.bandValid = false;
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
    const basis = stored && stored.planVersion === rules.planVersion ? stored : undefined;
    const state = basis ?? freshProtectionState(rules.planVersion);
    const watched: WatchedTracker = {
      tracker,
      rules,
      state,
      basis,
      dirty: false,
      firing: false,
      retryAfterMs: 0,
      quiet: quietBand(rules, state),
      pendingPrice: undefined,
      pendingTimeMs: 0,
      pendingApprox: 0,
      takeProfitApprox: rules.takeProfit?.toNumber(),
      stopLossApprox: rules.stopLoss?.toNumber(),
      trailPointsApprox:
        rules.trailing?.distance.kind === "points" && !rules.trailing.step ? rules.trailing.distance.value.toNumber() : undefined,
      home: undefined,
    };
    this.watched.set(tracker.orderNo, watched);
    this.place(watched, true);
  }

  /**
   * Stops protecting `orderNo` (exited, plan removed, gone); only if it is still `only`, when given. A
   * state that moved since its last write goes to `onLeave`: where the trail stood when it left.
   */
  unwatch(orderNo: string, only?: WatchedTracker): void {
    const watched = this.watched.get(orderNo);
    if (!watched || (only && watched !== only)) return;
    this.watched.delete(orderNo);
    this.dirtyTrackers.delete(watched);
    const moved = watched.dirty;
    watched.dirty = false;
    // Taken out of its instrument first: a run of new highs on it is handed to this tracker too.
    this.place(watched, false);
    if (!moved) return;
    this.applyPending(watched);
    this.onLeave(watched, watched.state);
  }

  /** A tracker handed to the worker may fire again from `retryAfterMs` on (its exit did not happen). */
  release(orderNo: string, retryAfterMs: number, tracker?: TrackerRecord, only?: WatchedTracker): void {
    const watched = this.watched.get(orderNo);
    if (!watched || (only && watched !== only)) return;
    watched.firing = false;
    watched.retryAfterMs = retryAfterMs;
    if (watched.home) watched.home.bandValid = false;
    if (tracker && tracker.version >= watched.tracker.version) watched.tracker = tracker;
  }

  /** The trackers whose state moved since `takeDirty` last ran, pending prices applied, marked clean. */
  takeDirty(): WatchedTracker[] {
    for (const trackers of this.running) trackers.endRun();
    this.running.clear();
    const taken = [...this.dirtyTrackers];
    this.dirtyTrackers.clear();
    for (const watched of taken) {
      this.applyPending(watched);
      watched.dirty = false;
    }
    return taken;
  }

  /**
   * Takes `stored`, the store's answer to a write of `sent` (`watched`'s state then): kept as the basis
   * of the next write and, when it is not `sent` itself (the store had something further: another
   * process saw later ticks), merged forward, the quiet bands following.
   */
  written(watched: WatchedTracker, sent: ProtectionState, stored: ProtectionState): void {
    // The state only moved forward from `sent` since; on a tracker no longer watched this is harmless.
    watched.basis = stored;
    if (stored !== sent) this.adopt(watched, stored);
  }

  private adopt(watched: WatchedTracker, stored: ProtectionState): void {
    if (this.watched.get(watched.tracker.orderNo) !== watched) return;
    this.applyPending(watched);
    const merged = mergeProtectionState(stored, watched.state, watched.tracker.side);
    if (merged === watched.state) return;
    watched.state = merged;
    watched.quiet = quietBand(watched.rules, merged);
    if (watched.home) watched.home.bandValid = false;
  }

  /** Marks `watched` to be written on the next flush again (its write failed), if it is still the tracker watched. */
  markDirty(watched: WatchedTracker): void {
    if (this.watched.get(watched.tracker.orderNo) === watched) this.setDirty(watched);
  }

  /** Takes ticks not fed through the tick cache (a book without a feed). */
  write(ticks: readonly TickRecord[]): void {
    this.startWrite();
    for (const tick of ticks) this.instruments[tick.segment]?.get(tick.securityId)?.onTick(tick);
  }

  /** A tick `trackers` did not certainly find quiet (instrument-trackers.ts, onTick): evaluated now, unless stale. */
  evaluateTick(trackers: InstrumentTrackers, tick: TickRecord, approximate: number): void {
    const nowMs = this.nowUnlessStale(tick);
    if (nowMs !== undefined) this.evaluate(trackers, tick.ltp, approximate, tick.timeMs, nowMs);
  }

  /** A tick that certainly only extends the run on at `trackers` (instrument-trackers.ts, raisesRun): taken into it, unless stale. */
  extendRunAt(trackers: InstrumentTrackers, tick: TickRecord, approximate: number): void {
    if (this.nowUnlessStale(tick) !== undefined) trackers.takeRunTick(tick.ltp, approximate, tick.timeMs);
  }

  /** The clock as read once for the write under way; undefined when `tick` is older than the stale limit on it. */
  private nowUnlessStale(tick: TickRecord): number | undefined {
    this.writeNowMs ??= this.now();
    return this.writeNowMs - tick.timeMs > this.settings.staleAfterMs ? undefined : this.writeNowMs;
  }

  private startWrite(): void {
    this.writeNowMs = undefined;
  }

  private evaluate(trackers: InstrumentTrackers, price: Money, approximate: number, timeMs: number, nowMs: number): void {
    if (trackers.mayReachLevel(approximate)) {
      const { falling, rising } = trackers;
      for (let i = falling.firstReachedFalling(price, approximate); i < falling.size; i++) {
        this.evaluateOne(falling.itemAt(i), price, timeMs, nowMs);
      }
      for (let i = 0, end = rising.reachedRising(price, approximate); i < end; i++)
        this.evaluateOne(rising.itemAt(i), price, timeMs, nowMs);
    }
    if (trackers.movingCount === 0) return;
    if (!trackers.bandValid) trackers.computeBand();
    if (trackers.quietFor(approximate)) return;
    const moving = trackers.moving;
    const run = trackers.extendRun(price, approximate, timeMs);
    if (run === "started") {
      for (const watched of moving) this.setDirty(watched);
      this.running.add(trackers);
    }
    if (run !== undefined) return;
    trackers.endRun();
    // Some tracker may change: the shared band is computed again on the next tick.
    trackers.bandValid = false;
    for (const watched of moving) {
      // Most ticks change nothing for most trackers: compared as doubles, with a margin, before any decimal work.
      if (watched.pendingPrice === undefined && isQuiet(watched.quiet, approximate)) continue;
      if (this.onlyRaisesTrail(watched, approximate)) {
        watched.pendingPrice = price;
        watched.pendingTimeMs = timeMs;
        watched.pendingApprox = approximate;
        this.setDirty(watched);
        continue;
      }
      this.applyPending(watched);
      // The band now follows the applied high: a tick inside it changes nothing, as for any other quiet tick.
      if (isQuiet(watched.quiet, approximate) || this.repeatsHigh(watched, price, approximate)) continue;
      this.evaluateOne(watched, price, timeMs, nowMs);
    }
  }

  /**
   * True when a tick at `approximate` certainly does nothing but raise the armed trail of a tracker
   * with no peak rule: beyond its best price, short of its take profit and clear of its stop loss, by the margin.
   */
  private onlyRaisesTrail(watched: WatchedTracker, approximate: number): boolean {
    if (!isArmedLoneTrail(watched)) return false;
    const long = watched.rules.side === Side.LONG;
    const best = bestPriceApprox(watched, long);
    const margin = 1e-9 * Math.abs(approximate);
    if (!(long ? approximate > best + margin : approximate < best - margin)) return false;
    // A best price beyond the stop loss is possible only after a released trigger; a new high there still reaches it.
    const stopLoss = watched.stopLossApprox;
    if (stopLoss !== undefined && (long ? approximate <= stopLoss + margin : approximate >= stopLoss - margin)) return false;
    return shortOfTakeProfit(watched, long, approximate, margin);
  }

  /**
   * True when a tick at `price` certainly changes nothing for an armed trail with no peak rule although it is on
   * the band's edge: it is the best price so far, exactly (the trail follows a better price only), clear of the
   * firing edge (the trail, the stop loss) and short of the take profit by the margin. A market's ticks often
   * stay at their high; each would otherwise be evaluated in decimals.
   */
  private repeatsHigh(watched: WatchedTracker, price: Money, approximate: number): boolean {
    const high = watched.state.trailHighWater;
    if (watched.pendingPrice !== undefined || !isArmedLoneTrail(watched) || !high) return false;
    const long = watched.rules.side === Side.LONG;
    const margin = 1e-9 * Math.abs(approximate);
    const firing = long ? watched.quiet.low : watched.quiet.high;
    if (!(long ? approximate > firing + margin : approximate < firing - margin)) return false;
    return shortOfTakeProfit(watched, long, approximate, margin) && price.equals(high);
  }

  /** Applies the pending best price, exactly; it reaches nothing (onlyRaisesTrail), so it fires nothing. */
  private applyPending(watched: WatchedTracker): void {
    watched.home?.endRun();
    const price = watched.pendingPrice;
    if (price === undefined) return;
    watched.pendingPrice = undefined;
    const { rules } = watched;
    const state = raiseTrail(rules, watched.state, price, watched.pendingTimeMs);
    watched.state = state;
    const points = watched.trailPointsApprox;
    // The new high is the state's (raiseTrail took its shortcut): the band follows from the old one, in doubles.
    watched.quiet =
      points !== undefined && state.trailHighWater === price
        ? followedTrailBand(watched.quiet, rules.side === Side.LONG, watched.pendingApprox, points, watched.takeProfitApprox)
        : raisedTrailBand(rules, state, watched.pendingApprox);
    if (watched.home) watched.home.bandValid = false;
  }

  private evaluateOne(watched: WatchedTracker, price: Money, timeMs: number, nowMs: number): void {
    if (watched.firing) return;
    if (watched.state.lastTickTimeMs !== undefined && timeMs < watched.state.lastTickTimeMs) return;
    const evaluation = evaluateTick(watched.rules, watched.state, price, timeMs);
    watched.state = evaluation.state;
    watched.quiet = quietBand(watched.rules, evaluation.state);
    if (evaluation.moved) this.setDirty(watched);
    if (!evaluation.trigger || nowMs < watched.retryAfterMs) return;
    watched.firing = true;
    this.setDirty(watched);
    if (!this.onTrigger(watched, evaluation.trigger)) watched.firing = false;
  }

  private setDirty(watched: WatchedTracker): void {
    if (watched.dirty) return;
    watched.dirty = true;
    this.dirtyTrackers.add(watched);
  }

  /** Adds (`on`) or removes the tracker from its instrument's indexes. */
  private place(watched: WatchedTracker, on: boolean): void {
    const { tracker, rules } = watched;
    let segment = this.instruments[tracker.segment];
    let trackers = segment?.get(tracker.securityId);
    if (!trackers) {
      if (!on) return;
      if (!segment) this.instruments[tracker.segment] = segment = new Map();
      trackers = new InstrumentTrackers(this);
      segment.set(tracker.securityId, trackers);
      trackers.unsubscribe = this.feed?.subscribe({ segment: tracker.segment, securityId: tracker.securityId }, trackers);
    }
    // The run's ticks are for the trackers watched before them, not for one added now.
    trackers.endRun();
    trackers.bandValid = false;
    watched.home = on ? trackers : undefined;
    if (hasMovingRules(rules)) {
      const at = trackers.moving.indexOf(watched);
      if (on && at < 0) trackers.moving.push(watched);
      else if (!on && at >= 0) trackers.moving.splice(at, 1);
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
    trackers.levelsChanged();
    if (!on && trackers.size === 0) {
      // Without a flush on a timer (the embedded store) nothing else would let go of it.
      this.running.delete(trackers);
      trackers.unsubscribe?.();
      segment!.delete(tracker.securityId);
      if (segment!.size === 0) this.instruments[tracker.segment] = undefined;
    }
  }
}

/** True when a tick at `approximate` is short of the tracker's take profit by `margin` (or it has none). */
function shortOfTakeProfit(watched: WatchedTracker, long: boolean, approximate: number, margin: number): boolean {
  const takeProfit = watched.takeProfitApprox;
  return takeProfit === undefined || (long ? approximate < takeProfit - margin : approximate > takeProfit + margin);
}
