/**
 * One protected tracker as the book (protection-book.ts) holds it: the
 * tracker, its compiled rules and protection state, and the figures the
 * book's shortcuts read on every tick.
 */
import type { ProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { InstrumentTrackers } from "./instrument-trackers.js";
import type { PriceRules } from "./price-rules.js";
import type { QuietBand } from "./quiet-band.js";

/** One protected tracker as the book holds it. */
export interface WatchedTracker {
  /** The tracker as last read or written here (its exit attempt, plan). */
  tracker: TrackerRecord;
  readonly rules: PriceRules;
  state: ProtectionState;
  /**
   * The state the store last answered for it (or had when it was watched), which `state` is forward
   * of: sent beside the next write, so that a store left untouched since takes the new state unmerged.
   */
  basis: ProtectionState | undefined;
  /** The state moved since it was last persisted (the tracker is in the book's set of those). */
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
   * Kept in these fields, overwritten in place, so that a new high allocates nothing.
   */
  pendingPrice: Money | undefined;
  /** Epoch ms of the pending tick; meaningful only while `pendingPrice` is set. */
  pendingTimeMs: number;
  /** The pending price as a double; meaningful only while `pendingPrice` is set. */
  pendingApprox: number;
  /** The take profit and stop loss as doubles, for the checks above. */
  readonly takeProfitApprox: number | undefined;
  readonly stopLossApprox: number | undefined;
  /** The trail's distance as a double when it is in points without a step (quiet-band.ts, followedTrailBand). */
  readonly trailPointsApprox: number | undefined;
  /** The instrument's trackers it belongs to, whose shared band its changes invalidate. */
  home: InstrumentTrackers | undefined;
}

/** An armed trail with no peak rule, not firing: a tick beyond its best price that reaches no level only raises the trail. */
export function isArmedLoneTrail(watched: WatchedTracker): boolean {
  const { rules, state } = watched;
  return !watched.firing && rules.trailing !== undefined && !rules.peak && state.trailArmed;
}

/** The best price so far, as a double: the pending one, else the band's profit-side edge (the high-water mark). */
export function bestPriceApprox(watched: WatchedTracker, long: boolean): number {
  if (watched.pendingPrice !== undefined) return watched.pendingApprox;
  return long ? watched.quiet.high : watched.quiet.low;
}
