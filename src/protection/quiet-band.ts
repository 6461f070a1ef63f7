/**
 * The prices at which a tick changes nothing for one tracker: it reaches no
 * level, moves no trail and raises no peak. Most ticks of a market fall in
 * it, so the book compares them as doubles and skips the decimal
 * evaluation (tick-evaluation.ts); only a tick outside the band, or within
 * a margin of its edges, is evaluated exactly. The margin (a billionth of
 * the price) is many orders of magnitude wider than a double's error on a
 * 32-digit decimal, so no tick the exact evaluation would act on is skipped.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import type { PriceRules } from "./price-rules.js";

export interface QuietBand {
  /** Exclusive bounds, as doubles; a band with low ≥ high holds no price. */
  readonly low: number;
  readonly high: number;
}

const NONE: QuietBand = { low: 0, high: 0 };
const MARGIN = 1e-9;

/** True when a tick at `price` certainly changes nothing (strictly inside the band, past the margin). */
export function isQuiet(band: QuietBand, price: number): boolean {
  const margin = MARGIN * Math.abs(price);
  return price > band.low + margin && price < band.high - margin;
}

/** The band after `state`: empty before the first tick and wherever a rule has no level yet. */
export function quietBand(rules: PriceRules, state: ProtectionState): QuietBand {
  if (state.lastTickTimeMs === undefined) return NONE;
  const long = rules.side === Side.LONG;
  // The nearest level a tick fires at (on the loss side) and the nearest price at which state would move (towards profit), as doubles.
  let fires = long ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  let moves = long ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (rules.stopLoss) fires = nearer(fires, rules.stopLoss, long);
  if (rules.takeProfit) moves = nearer(moves, rules.takeProfit, !long);
  if (rules.trailing) {
    if (state.trailArmed && state.trailLevel && state.trailHighWater) {
      fires = nearer(fires, state.trailLevel, long);
      moves = nearer(moves, state.trailHighWater, !long);
    } else if (rules.trailing.activation) moves = nearer(moves, rules.trailing.activation, !long);
    else return NONE;
  }
  if (rules.peak) {
    if (!state.peakProfit) return NONE;
    moves = nearer(moves, long ? rules.entry.plus(state.peakProfit) : rules.entry.minus(state.peakProfit), !long);
    if (state.peakArmed) {
      const floor = state.peakProfit.times(rules.peak.keepShare);
      fires = nearer(fires, long ? rules.entry.plus(floor) : rules.entry.minus(floor), long);
    }
  }
  return long ? { low: fires, high: moves } : { low: moves, high: fires };
}

/**
 * `quietBand(rules, state)` for a state `raiseTrail` answered (an armed trail, no peak rule), with
 * the new best price given as the double the caller already has: one decimal conversion fewer.
 */
export function raisedTrailBand(rules: PriceRules, state: ProtectionState, bestApprox: number): QuietBand {
  if (
    rules.peak ||
    !rules.trailing ||
    !state.trailArmed ||
    !state.trailLevel ||
    !state.trailHighWater ||
    state.lastTickTimeMs === undefined
  )
    return quietBand(rules, state);
  const long = rules.side === Side.LONG;
  let fires = nearer(long ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, state.trailLevel, long);
  let moves = bestApprox;
  if (rules.stopLoss) fires = nearer(fires, rules.stopLoss, long);
  if (rules.takeProfit) moves = nearer(moves, rules.takeProfit, !long);
  return long ? { low: fires, high: moves } : { low: moves, high: fires };
}

/**
 * The band after a new best price `bestApprox` moved an armed trail that stays `pointsApprox` points
 * from it (points, no step, no peak rule), from `before`, the band of the state it moved from: the
 * trail is the further of where it stood and the new candidate, so the firing edge is the further of
 * the old one (the trail or the stop loss) and the candidate, computed in doubles and moved into the
 * band by their error bound (the band only narrows: a tick at the trail is never quiet). No decimal
 * is converted.
 */
export function followedTrailBand(
  before: QuietBand,
  long: boolean,
  bestApprox: number,
  pointsApprox: number,
  takeProfitApprox: number | undefined,
): QuietBand {
  // A few rounding errors of the larger operand: the subtraction may cancel, the margin is relative to the tick.
  const error = 4 * Number.EPSILON * Math.max(Math.abs(bestApprox), Math.abs(pointsApprox));
  if (long) {
    const fires = Math.max(before.low, bestApprox - pointsApprox + error);
    return { low: fires, high: takeProfitApprox === undefined ? bestApprox : Math.min(bestApprox, takeProfitApprox) };
  }
  const fires = Math.min(before.high, bestApprox + pointsApprox - error);
  return { low: takeProfitApprox === undefined ? bestApprox : Math.max(bestApprox, takeProfitApprox), high: fires };
}

/** The higher (`upwards`) or lower of `bound` and `level` as a double. */
function nearer(bound: number, level: Money, upwards: boolean): number {
  const at = level.toNumber();
  return upwards ? Math.max(bound, at) : Math.min(bound, at);
}
