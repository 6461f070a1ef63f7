/**
 * The one rule by which protection states are combined, so that every
 * writer (this process per tick, another process, a restarted one) moves a
 * stored state forward only. The Redis script applies the same rule.
 *
 * - A state of an older plan version never replaces one of a newer version;
 *   a newer version replaces the state whole (a changed plan starts afresh).
 * - For one version, a state evaluated at an older tick changes nothing.
 * - Otherwise each field takes the further of the two: armed stays armed,
 *   the high-water mark and the trail move only towards profit (up for a
 *   LONG, down for a SHORT), the peak profit only up; the last tick is the
 *   incoming one.
 *
 * When every field of the result is the incoming one's, the incoming state
 * itself is answered (states are immutable): a writer tells "the store has
 * nothing further" by identity, without comparing decimals again.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { ProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";

export function mergeProtectionState(stored: ProtectionState | undefined, incoming: ProtectionState, side: Side): ProtectionState {
  if (!stored || incoming.planVersion > stored.planVersion) return incoming;
  if (incoming.planVersion < stored.planVersion) return stored;
  if ((incoming.lastTickTimeMs ?? 0) < (stored.lastTickTimeMs ?? 0)) return stored;
  const towardsProfit = side === Side.LONG ? max : min;
  const trailHighWater = pick(stored.trailHighWater, incoming.trailHighWater, towardsProfit);
  const trailLevel = pick(stored.trailLevel, incoming.trailLevel, towardsProfit);
  const peakProfit = pick(stored.peakProfit, incoming.peakProfit, max);
  const trailArmed = stored.trailArmed || incoming.trailArmed;
  const peakArmed = stored.peakArmed || incoming.peakArmed;
  if (
    trailHighWater === incoming.trailHighWater &&
    trailLevel === incoming.trailLevel &&
    peakProfit === incoming.peakProfit &&
    trailArmed === incoming.trailArmed &&
    peakArmed === incoming.peakArmed
  )
    return incoming;
  return {
    planVersion: incoming.planVersion,
    trailArmed,
    ...(trailHighWater ? { trailHighWater } : {}),
    ...(trailLevel ? { trailLevel } : {}),
    peakArmed,
    ...(peakProfit ? { peakProfit } : {}),
    ...(incoming.lastTickTimeMs === undefined ? {} : { lastTickTimeMs: incoming.lastTickTimeMs }),
    ...(incoming.lastTickPrice ? { lastTickPrice: incoming.lastTickPrice } : {}),
  };
}

function pick(a: Money | undefined, b: Money | undefined, better: (a: Money, b: Money) => Money): Money | undefined {
  if (!a) return b;
  if (!b) return a;
  return better(a, b);
}

/** The larger; `b` (the incoming state's) when they are equal, so that a merge changing nothing answers the incoming state itself. */
function max(a: Money, b: Money): Money {
  return a.greaterThan(b) ? a : b;
}

function min(a: Money, b: Money): Money {
  return a.lessThan(b) ? a : b;
}
