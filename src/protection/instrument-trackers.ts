/**
 * One instrument's protected trackers as the book walks them on its ticks:
 * fixed levels in two sorted arrays, trail and peak trackers in a list, the
 * intersection of the latter's quiet bands, and a run of new highs shared by
 * all of them.
 *
 * The run: when every moving tracker here is an armed trail without a peak
 * rule, of one side, and not firing, a tick beyond all their best prices,
 * clear of all their stop losses and short of all their take profits only
 * raises each trail. The run keeps the best such tick here, for all of them
 * at once (a trending market's ticks cost a few double comparisons, whatever
 * the number of trackers), and `endRun` hands it to each tracker as its
 * pending price before anything else reads or evaluates them.
 *
 * A tick that falls back from the run's best, while still clear of every
 * trail as it would stand after the run (and of every stop loss), changes
 * nothing either: the run takes it without ending. Markets pull back between
 * new highs all the time; ending the run there would apply the run's price
 * to every trail in decimals on every pull-back. This needs each trail's
 * distance as a double (points, no step); a run with any other trail ends
 * on a pull-back as before.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { Money } from "../domain/money.js";
import type { TickObserver, TickRecord } from "../ticks/tick.js";
import { bestPriceApprox, isArmedLoneTrail, type WatchedTracker } from "./watched-tracker.js";
import { SortedLevels } from "./sorted-levels.js";

/** A billionth of the price, as in quiet-band.ts. */
const MARGIN = 1e-9;

/** Where a tick that may change something is evaluated (protection-book.ts). */
export interface TickEvaluator {
  evaluateTick(trackers: InstrumentTrackers, tick: TickRecord, approximate: number): void;
  /** A tick that certainly only extends the run on here (`raisesRun`): taken into it unless stale. */
  extendRunAt(trackers: InstrumentTrackers, tick: TickRecord, approximate: number): void;
}

export class InstrumentTrackers implements TickObserver {
  lastTickTimeMs = Number.NEGATIVE_INFINITY;
  /** Ends the book's subscription to its ticks, when it has one. */
  unsubscribe: (() => void) | undefined;
  /** Fire when the price falls to the level: a LONG's stop loss, a SHORT's take profit. */
  readonly falling = new SortedLevels<WatchedTracker>();
  /** Fire when the price rises to the level: a LONG's take profit, a SHORT's stop loss. */
  readonly rising = new SortedLevels<WatchedTracker>();
  /** An array rather than a Set: walked on ticks (no iterator), changed once per plan. */
  readonly moving: WatchedTracker[] = [];
  /**
   * What most ticks read, kept in this object's own fields (not behind the arrays): with thousands of
   * instruments, each object a tick touches is likely a cache miss. Updated by `levelsChanged`.
   */
  private fallingTop = Number.NEGATIVE_INFINITY;
  private risingBottom = Number.POSITIVE_INFINITY;
  movingCount = 0;
  /**
   * The prices quiet for every moving tracker here (the intersection of their bands, exclusive), valid
   * while `bandValid`: a tick inside it skips the loop over them. During a run, its pull-backs' (bandForRun).
   */
  private bandLow = 0;
  private bandHigh = 0;
  bandValid = false;
  /** During a run: bandLow and bandHigh are not moved to the run's best yet (bandForRun). */
  private runBandStale = false;
  /** The run's best tick, while one is on. */
  runPrice: Money | undefined;
  runTimeMs = 0;
  /** While `runnable`: the best price of them all (the run's own while on), the nearest stop loss and take profit, as doubles. */
  private runnable = false;
  private runLong = true;
  private runBest = 0;
  private runStop = 0;
  private runCeiling = 0;
  /**
   * For the pull-backs a run takes: the furthest firing edge of the trails as they stand (their
   * trails and stop losses), and the shortest and longest trail distance in points; NaN when some
   * trail's distance is not a plain number of points.
   */
  private runFiringEdge = 0;
  private runPointsMin = 0;
  private runPointsMax = 0;

  constructor(private readonly evaluator: TickEvaluator) {}

  get size(): number {
    return this.falling.size + this.rising.size + this.moving.length;
  }

  /**
   * One tick of this instrument: an older one than the last is dropped, one that certainly changes
   * nothing is done with here (stale or not, it would change nothing), any other goes to the evaluator.
   */
  onTick(tick: TickRecord): void {
    if (tick.timeMs < this.lastTickTimeMs) return;
    this.lastTickTimeMs = tick.timeMs;
    const approximate = tick.ltpApprox ?? tick.ltp.toNumber();
    // A trending market's ticks: the run takes them without the band or the evaluation's other checks.
    if (this.runPrice !== undefined && this.bandValid && this.raisesRun(approximate)) this.evaluator.extendRunAt(this, tick, approximate);
    else if (!this.certainlyQuiet(approximate)) this.evaluator.evaluateTick(this, tick, approximate);
  }

  /** True when a tick at `approximate` reaches no fixed level and is a new best clear of the run's bounds, by the margin. */
  private raisesRun(approximate: number): boolean {
    return this.clearOfRun(approximate, MARGIN * Math.abs(approximate)) && !this.mayReachLevel(approximate);
  }

  /** True when a tick at `approximate` is beyond the run's best, clear of its stop losses and short of its take profits, by `margin`. */
  private clearOfRun(approximate: number, margin: number): boolean {
    return this.runLong
      ? approximate > this.runBest + margin && approximate > this.runStop + margin && approximate < this.runCeiling - margin
      : approximate < this.runBest - margin && approximate < this.runStop - margin && approximate > this.runCeiling + margin;
  }

  /** To be called after the sorted levels or the moving list changed. */
  levelsChanged(): void {
    this.fallingTop = this.falling.highestApprox;
    this.risingBottom = this.rising.lowestApprox;
    this.movingCount = this.moving.length;
    this.bandValid = false;
  }

  /** False when a tick at `approximate` certainly reaches no fixed level here (the sorted levels' own shortcut, without touching them). */
  mayReachLevel(approximate: number): boolean {
    const margin = MARGIN * Math.abs(approximate);
    return approximate - margin <= this.fallingTop || approximate + margin >= this.risingBottom;
  }

  /** True when a tick at `approximate` certainly reaches no level and changes no tracker here. */
  certainlyQuiet(approximate: number): boolean {
    return !this.mayReachLevel(approximate) && (this.movingCount === 0 || (this.bandValid && this.quietFor(approximate)));
  }

  /** True when a tick at `approximate` certainly changes no moving tracker here (inside the shared band, past the margin). */
  quietFor(approximate: number): boolean {
    if (this.runBandStale) this.bandForRun();
    const margin = MARGIN * Math.abs(approximate);
    return approximate > this.bandLow + margin && approximate < this.bandHigh - margin;
  }

  /** The shared band and the run's bounds, from the moving trackers as they are now (a run is ended first). */
  computeBand(): void {
    this.endRun();
    let low = Number.NEGATIVE_INFINITY;
    let high = Number.POSITIVE_INFINITY;
    let pending = false;
    const first = this.moving[0];
    this.runnable = first !== undefined;
    this.runLong = first?.rules.side !== Side.SHORT;
    const long = this.runLong;
    this.runBest = long ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    this.runStop = this.runBest;
    this.runCeiling = long ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.runFiringEdge = this.runBest;
    this.runPointsMin = Number.POSITIVE_INFINITY;
    this.runPointsMax = 0;
    for (const watched of this.moving) {
      this.includeInRun(watched, long);
      if (watched.firing) continue;
      if (watched.pendingPrice !== undefined) pending = true;
      if (watched.quiet.low > low) low = watched.quiet.low;
      if (watched.quiet.high < high) high = watched.quiet.high;
    }
    this.bandLow = pending ? 0 : low;
    this.bandHigh = pending ? 0 : high;
    this.bandValid = true;
  }

  /**
   * Takes a tick at `price` into the run when it only raises every trail here: "started" when it
   * begins one (the caller marks every moving tracker moved), "extended" when one was on; undefined
   * when it may do more, and the trackers must see it one by one (after `endRun`).
   */
  extendRun(price: Money, approximate: number, timeMs: number): "started" | "extended" | "pulled back" | undefined {
    if (!this.runnable) return undefined;
    const margin = MARGIN * Math.abs(approximate);
    if (!this.clearOfRun(approximate, margin)) {
      return this.runPrice !== undefined && this.takesPullBack(price, approximate, margin) ? "pulled back" : undefined;
    }
    const started = this.runPrice === undefined;
    this.takeRunTick(price, approximate, timeMs);
    return started ? "started" : "extended";
  }

  /** Makes a tick the run's best, the caller having found it clear of the run (extendRun, raisesRun). */
  takeRunTick(price: Money, approximate: number, timeMs: number): void {
    this.runPrice = price;
    this.runTimeMs = timeMs;
    this.runBest = approximate;
    // Moved with the best only when a tick that is not a new best asks for it: in a trend, none does.
    this.runBandStale = true;
  }

  /**
   * While a run is on, the quiet band is that of its pull-backs: short of the run's best, and clear of
   * every trail as the best would move it (each the further of where it stands and the best less its
   * distance) and of every stop loss. In doubles, as followedTrailBand moves a band; empty when some
   * trail's distance is not a plain number of points.
   */
  private bandForRun(): void {
    this.runBandStale = false;
    const best = this.runBest;
    const error = 4 * Number.EPSILON * Math.max(Math.abs(best), this.runPointsMax);
    if (this.runLong) {
      this.bandLow = Math.max(this.runFiringEdge, best - this.runPointsMin + error);
      this.bandHigh = best;
    } else {
      this.bandLow = best;
      this.bandHigh = Math.min(this.runFiringEdge, best + this.runPointsMin - error);
    }
    if (Number.isNaN(this.bandLow) || Number.isNaN(this.bandHigh)) {
      this.bandLow = 0;
      this.bandHigh = 0;
    }
  }

  /**
   * True when a tick at `price`, not certainly a new best, changes nothing during the run: clear of the
   * firing edge of the run's band (bandForRun) by the margin, and short of the run's best, or within the
   * margin of it and not beyond it exactly (a repeat of the best is the commonest such tick). Asked after
   * `quietFor`, which moved the band to the run's best.
   */
  private takesPullBack(price: Money, approximate: number, margin: number): boolean {
    if (!(this.bandLow < this.bandHigh)) return false;
    if (this.runLong) {
      if (!(approximate > this.bandLow + margin)) return false;
      return approximate < this.runBest - margin || !price.greaterThan(this.runPrice!);
    }
    if (!(approximate < this.bandHigh - margin)) return false;
    return approximate > this.runBest + margin || !price.lessThan(this.runPrice!);
  }

  /** Hands the run's best tick to every moving tracker as its pending price (beyond each one's own, by the run's bounds). */
  endRun(): void {
    const price = this.runPrice;
    if (price === undefined) return;
    this.runPrice = undefined;
    this.runBandStale = false;
    for (const watched of this.moving) {
      watched.pendingPrice = price;
      watched.pendingTimeMs = this.runTimeMs;
      watched.pendingApprox = this.runBest;
    }
    this.bandValid = false;
  }

  /** Narrows the run's bounds by one tracker; a tracker that is not an armed trail alone, of the run's side, not firing, rules runs out. */
  private includeInRun(watched: WatchedTracker, long: boolean): void {
    if (!isArmedLoneTrail(watched) || (watched.rules.side === Side.LONG) !== long) {
      this.runnable = false;
      return;
    }
    const best = bestPriceApprox(watched, long);
    const stop = watched.stopLossApprox;
    const ceiling = watched.takeProfitApprox;
    // The band's firing edge is the trail's (or the stop loss's) before any pending best; the pending best moves it only further.
    const { low, high } = watched.quiet;
    const points = watched.trailPointsApprox;
    // An empty band (a stop loss past the best price, after a released trigger) tells no edge: no pull-back is taken.
    if (points === undefined || !(low < high)) this.runPointsMin = Number.NaN;
    else {
      this.runPointsMin = Math.min(this.runPointsMin, points);
      this.runPointsMax = Math.max(this.runPointsMax, points);
    }
    if (long) {
      this.runBest = Math.max(this.runBest, best);
      if (stop !== undefined) this.runStop = Math.max(this.runStop, stop);
      if (ceiling !== undefined) this.runCeiling = Math.min(this.runCeiling, ceiling);
      this.runFiringEdge = Math.max(this.runFiringEdge, low);
    } else {
      this.runBest = Math.min(this.runBest, best);
      if (stop !== undefined) this.runStop = Math.min(this.runStop, stop);
      if (ceiling !== undefined) this.runCeiling = Math.max(this.runCeiling, ceiling);
      this.runFiringEdge = Math.min(this.runFiringEdge, high);
    }
  }
}
