/**
 * Fill accounting across exit attempts, in decimal. An exit order may fill in
 * parts and have its unfilled rest refused; the next attempt then exits only
 * the residual. A tracker keeps two lots:
 *
 * - `exitedQuantity` / `exitPrice`: everything exited so far, at its average price;
 * - `priorExitedQuantity` / `priorExitPrice`: the part traded by earlier attempts.
 *
 * Broker order updates report the cumulative traded quantity of one order, so
 * the current attempt's fill is `exitedQuantity − priorExitedQuantity` and an
 * update is applied as `exitedQuantity = prior + traded`: applying it twice, or
 * an older one after a newer one, changes nothing.
 *
 * Average prices are rounded half-even to AVERAGE_PRICE_DECIMALS places.
 */
import type { Money } from "./money.js";
import type { TrackerRecord } from "./tracker.js";

/** A quantity traded at an average price (unknown when the broker did not say). */
export interface FillLot {
  readonly quantity: Money;
  readonly price?: Money;
}

export const AVERAGE_PRICE_DECIMALS = 8;

/** The average price of two lots; a lot without a price takes the other's. Undefined when neither has one. */
export function averageFillPrice(a: FillLot, b: FillLot): Money | undefined {
  if (b.quantity.isZero()) return a.price ?? b.price;
  if (a.quantity.isZero()) return b.price ?? a.price;
  const priceA = a.price ?? b.price;
  const priceB = b.price ?? a.price;
  if (!priceA || !priceB) return undefined;
  const total = a.quantity.plus(b.quantity);
  return priceA.times(a.quantity).plus(priceB.times(b.quantity)).dividedBy(total).toDecimalPlaces(AVERAGE_PRICE_DECIMALS);
}

/** What earlier, finished attempts traded. */
export function priorLot(tracker: TrackerRecord): FillLot {
  return tracker.priorExitPrice
    ? { quantity: tracker.priorExitedQuantity, price: tracker.priorExitPrice }
    : { quantity: tracker.priorExitedQuantity };
}

/** What the current attempt has traded so far, as the tracker records it. */
export function attemptTradedQuantity(tracker: TrackerRecord): Money {
  return tracker.exitedQuantity.minus(tracker.priorExitedQuantity);
}

/** Quantity the current attempt's order was for: everything not traded by earlier attempts. */
export function attemptOrderQuantity(tracker: TrackerRecord): Money {
  return tracker.quantity.minus(tracker.priorExitedQuantity);
}

/** True when `traded` (cumulative for the current attempt) would exit more than the position holds. */
export function overfills(tracker: TrackerRecord, traded: FillLot): boolean {
  return tracker.priorExitedQuantity.plus(traded.quantity).greaterThan(tracker.quantity);
}

/** The exit fields once the current attempt has traded `traded` in total. */
export function withAttemptTraded(tracker: TrackerRecord, traded: FillLot): Pick<TrackerRecord, "exitedQuantity" | "exitPrice"> {
  const exitPrice = averageFillPrice(priorLot(tracker), traded) ?? tracker.exitPrice;
  return { exitedQuantity: tracker.priorExitedQuantity.plus(traded.quantity), exitPrice };
}

/**
 * The fill fields of a tracker whose current attempt ended with `traded`
 * filled and the rest refused: the traded part joins the prior lot, and the
 * residual (`quantity − exitedQuantity`) is what the next attempt exits.
 */
export function settledAfterRefusal(
  tracker: TrackerRecord,
  traded: FillLot,
): Pick<TrackerRecord, "exitedQuantity" | "exitPrice" | "priorExitedQuantity" | "priorExitPrice"> {
  const { exitedQuantity, exitPrice } = withAttemptTraded(tracker, traded);
  const price = exitedQuantity.isZero() ? undefined : exitPrice;
  return { exitedQuantity, priorExitedQuantity: exitedQuantity, exitPrice: price, priorExitPrice: price };
}

/**
 * The fill fields after the current attempt was refused: `traded` when the
 * broker reported what the order filled (and it is not behind what the
 * tracker already records), else what the tracker records.
 */
export function settleRefusedAttempt(
  tracker: TrackerRecord,
  traded?: FillLot,
): Pick<TrackerRecord, "exitedQuantity" | "exitPrice" | "priorExitedQuantity" | "priorExitPrice"> {
  if (traded?.quantity.greaterThanOrEqualTo(attemptTradedQuantity(tracker))) return settledAfterRefusal(tracker, traded);
  const price = tracker.exitedQuantity.isZero() ? undefined : tracker.exitPrice;
  return { exitedQuantity: tracker.exitedQuantity, priorExitedQuantity: tracker.exitedQuantity, exitPrice: price, priorExitPrice: price };
}
