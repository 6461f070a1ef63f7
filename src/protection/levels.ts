/**
 * Offsets become prices here, side-aware: the loss side of a LONG is below
 * its entry, of a SHORT above. Decimal throughout; nothing is rounded.
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { DistanceSpec, PriceLevelSpec } from "../domain/exit-plan.js";
import { Money } from "../domain/money.js";

/** Which side of the entry a level lies on. */
export type LevelSide = "loss" | "profit";

const HUNDRED = new Money(100);

/** The price of `level` for a position of `side` entered at `entry`; may be ≤ 0 for an offset too large (validation refuses it). */
export function levelPrice(level: PriceLevelSpec, side: Side, entry: Money, towards: LevelSide): Money {
  if (level.kind === "price") return level.value;
  const offset = level.kind === "points" ? level.value : entry.times(level.value).dividedBy(HUNDRED);
  const up = (side === Side.LONG) === (towards === "profit");
  return up ? entry.plus(offset) : entry.minus(offset);
}

/** The distance `spec` measured from `price`, in points. */
export function distanceAt(spec: DistanceSpec, price: Money): Money {
  return spec.kind === "points" ? spec.value : price.times(spec.value).dividedBy(HUNDRED);
}

/** True when `price` lies on the `towards` side of `entry` (strictly) for a position of `side`. */
export function isOnSide(price: Money, side: Side, entry: Money, towards: LevelSide): boolean {
  const above = price.greaterThan(entry);
  const below = price.lessThan(entry);
  return (side === Side.LONG) === (towards === "profit") ? above : below;
}

/** Open profit per unit at `price`, in points: negative at a loss. */
export function openProfit(price: Money, side: Side, entry: Money): Money {
  return side === Side.LONG ? price.minus(entry) : entry.minus(price);
}
