/**
 * One tick against one tracker's price rules: the state moved forward and
 * the rule that fires, if one does. Pure and side-aware; decimal throughout.
 *
 * On each tick, in this order: the trail arms (at the activation level, or
 * on the first tick) or follows a better price; the peak profit rises; then
 * the first rule reached fires, checked as STOP_LOSS, TRAILING_STOP,
 * PEAK_DRAWDOWN, TAKE_PROFIT. A level is reached when the tick is at it or
 * beyond it (a LONG's stop at 90 fires at 90). The trail and the peak never
 * fire on the tick that moved them: that tick is their best price.
 *
 * The trail stays `distance` from the best price; with a `step` it moves
 * only when it can move a whole step, by whole steps (from where it armed).
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import type { ExitTrigger, ProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import { distanceAt, openProfit } from "./levels.js";
import type { PriceRules } from "./price-rules.js";

export interface TickEvaluation {
  readonly state: ProtectionState;
  /** True when the trail, the peak or an armed flag moved (the state is worth persisting). */
  readonly moved: boolean;
  readonly trigger?: ExitTrigger;
}

export function evaluateTick(rules: PriceRules, state: ProtectionState, price: Money, timeMs: number): TickEvaluation {
  const long = rules.side === Side.LONG;
  const trail = moveTrail(rules, state, price, long);
  const peak = movePeak(rules, state, price);
  const next: ProtectionState = { ...state, ...trail.fields, ...peak.fields, lastTickTimeMs: timeMs, lastTickPrice: price };
  const trigger = firstReached(rules, next, price, long);
  return {
    state: next,
    moved: trail.moved || peak.moved,
    ...(trigger ? { trigger: { ...trigger, tickPrice: price, tickTimeMs: timeMs, planVersion: rules.planVersion } } : {}),
  };
}

type Moved = { readonly fields: Partial<ProtectionState>; readonly moved: boolean };
const UNMOVED: Moved = { fields: {}, moved: false };

function moveTrail(rules: PriceRules, state: ProtectionState, price: Money, long: boolean): Moved {
  const trailing = rules.trailing;
  if (!trailing) return UNMOVED;
  if (!state.trailArmed || !state.trailHighWater || !state.trailLevel) {
    const reached =
      !trailing.activation || (long ? price.greaterThanOrEqualTo(trailing.activation) : price.lessThanOrEqualTo(trailing.activation));
    if (!reached) return UNMOVED;
    return { fields: { trailArmed: true, trailHighWater: price, trailLevel: trailCandidate(trailing, price, long) }, moved: true };
  }
  const better = long ? price.greaterThan(state.trailHighWater) : price.lessThan(state.trailHighWater);
  if (!better) return UNMOVED;
  return { fields: { trailHighWater: price, trailLevel: followedTrail(trailing, state.trailLevel, price, long) }, moved: true };
}

/**
 * `evaluateTick(rules, state, price, timeMs).state` for the tick the book sees most: a new best price for an
 * armed trail, with no peak rule. The same result by a shorter way (no trigger search: the book applies such a
 * tick only once it knows it reaches nothing); any other case takes the general way.
 */
export function raiseTrail(rules: PriceRules, state: ProtectionState, price: Money, timeMs: number): ProtectionState {
  const trailing = rules.trailing;
  const long = rules.side === Side.LONG;
  const { trailHighWater, trailLevel } = state;
  if (!trailing || rules.peak || !state.trailArmed || !trailHighWater || !trailLevel)
    return evaluateTick(rules, state, price, timeMs).state;
  if (!(long ? price.greaterThan(trailHighWater) : price.lessThan(trailHighWater))) return evaluateTick(rules, state, price, timeMs).state;
  return {
    ...state,
    trailHighWater: price,
    trailLevel: followedTrail(trailing, trailLevel, price, long),
    lastTickTimeMs: timeMs,
    lastTickPrice: price,
  };
}

type Trailing = NonNullable<PriceRules["trailing"]>;

/** Where the trail would stand for a best price of `best`: `distance` from it. */
function trailCandidate(trailing: Trailing, best: Money, long: boolean): Money {
  return long ? best.minus(distanceAt(trailing.distance, best)) : best.plus(distanceAt(trailing.distance, best));
}

/** The trail at `level` after a new best price: towards the candidate, by whole steps when it has a step; never back. */
function followedTrail(trailing: Trailing, level: Money, best: Money, long: boolean): Money {
  const wanted = trailCandidate(trailing, best, long);
  if (trailing.step) {
    const gain = long ? wanted.minus(level) : level.minus(wanted);
    const steps = gain.dividedToIntegerBy(trailing.step);
    if (!steps.greaterThan(0)) return level;
    const by = trailing.step.times(steps);
    return long ? level.plus(by) : level.minus(by);
  }
  return (long ? wanted.greaterThan(level) : wanted.lessThan(level)) ? wanted : level;
}

function movePeak(rules: PriceRules, state: ProtectionState, price: Money): Moved {
  const peak = rules.peak;
  if (!peak) return UNMOVED;
  const profit = openProfit(price, rules.side, rules.entry);
  if (state.peakProfit && !profit.greaterThan(state.peakProfit)) return UNMOVED;
  const armed = state.peakArmed || (peak.minProfit ? profit.greaterThanOrEqualTo(peak.minProfit) : profit.greaterThan(0));
  return { fields: { peakProfit: profit, peakArmed: armed }, moved: true };
}

function firstReached(
  rules: PriceRules,
  state: ProtectionState,
  price: Money,
  long: boolean,
): { rule: ProtectionRule; level: Money } | undefined {
  const againstPosition = (level: Money) => (long ? price.lessThanOrEqualTo(level) : price.greaterThanOrEqualTo(level));
  if (rules.stopLoss && againstPosition(rules.stopLoss)) return { rule: ProtectionRule.STOP_LOSS, level: rules.stopLoss };
  if (state.trailArmed && state.trailLevel && againstPosition(state.trailLevel))
    return { rule: ProtectionRule.TRAILING_STOP, level: state.trailLevel };
  if (rules.peak && state.peakArmed && state.peakProfit) {
    const floor = state.peakProfit.times(rules.peak.keepShare);
    if (!openProfit(price, rules.side, rules.entry).greaterThan(floor)) {
      return { rule: ProtectionRule.PEAK_DRAWDOWN, level: long ? rules.entry.plus(floor) : rules.entry.minus(floor) };
    }
  }
  if (rules.takeProfit && (long ? price.greaterThanOrEqualTo(rules.takeProfit) : price.lessThanOrEqualTo(rules.takeProfit))) {
    return { rule: ProtectionRule.TAKE_PROFIT, level: rules.takeProfit };
  }
  return undefined;
}
