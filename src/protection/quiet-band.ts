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
  // Levels a tick fires at (on the loss side) and prices at which state would move (towards profit).
  const fires: Money[] = [];
  const moves: Money[] = [];
  if (rules.stopLoss) fires.push(rules.stopLoss);
  if (rules.takeProfit) moves.push(rules.takeProfit);
  if (rules.trailing) {
    if (state.trailArmed && state.trailLevel && state.trailHighWater) {
      fires.push(state.trailLevel);
      moves.push(state.trailHighWater);
    } else if (rules.trailing.activation) moves.push(rules.trailing.activation);
    else return NONE;
  }
  if (rules.peak) {
    if (!state.peakProfit) return NONE;
    moves.push(long ? rules.entry.plus(state.peakProfit) : rules.entry.minus(state.peakProfit));
    if (state.peakArmed) {
      const floor = state.peakProfit.times(rules.peak.keepShare);
      fires.push(long ? rules.entry.plus(floor) : rules.entry.minus(floor));
    }
  }
  const lossSide = fires.map((level) => level.toNumber());
  const profitSide = moves.map((level) => level.toNumber());
  return long
    ? { low: Math.max(Number.NEGATIVE_INFINITY, ...lossSide), high: Math.min(Number.POSITIVE_INFINITY, ...profitSide) }
    : { low: Math.max(Number.NEGATIVE_INFINITY, ...profitSide), high: Math.min(Number.POSITIVE_INFINITY, ...lossSide) };
}
