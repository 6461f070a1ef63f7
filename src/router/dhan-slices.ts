/**
 * Freeze-quantity slicing for Dhan exit orders. An exchange refuses a single
 * order above an instrument's freeze quantity, so an exit above it goes out
 * as several orders ("slices"), each of at most the freeze quantity, each
 * with its own correlation id derived from the attempt's (the attempt's id
 * and `s1`, `s2`, …: exit-correlation-id.ts). An unsliced exit's order
 * carries the attempt's id itself, so a look-up never needs to know how an
 * attempt was sliced: it looks the attempt's id up, and when no order has
 * it, the first slice's, then, while the slices found add up to less than
 * the attempt's quantity, the next one.
 *
 * Chosen over Dhan's POST /v2/orders/slicing because that one gives every
 * leg the same correlation id, and the look-up by correlation id is
 * documented to answer one order: the legs could not be followed to their
 * fills one by one, and a leg refused could not be told from one filled.
 */
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { averageFillPrice, type FillLot } from "../domain/exit-fill.js";
import { type Money, parseDecimal, ZERO } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { BrokerOrder } from "../exit/ports.js";

/** At most this many slices per exit attempt (and looked up per attempt). */
export const MAX_SLICES = 50;

/** Freeze quantities by segment (`NSE_FNO`) and by instrument (`NSE_FNO:35001`); the instrument's wins. */
export type FreezeLimits = ReadonlyMap<string, Money>;

/** Parses `NSE_FNO=1800,NSE_FNO:35001=900`; "" means no slicing. */
export function parseFreezeLimits(text: string): FreezeLimits {
  const limits = new Map<string, Money>();
  if (text.trim() === "") return limits;
  for (const part of text.split(",")) {
    const match = /^\s*([A-Z_]+)(?::([A-Za-z0-9_-]{1,32}))?\s*=\s*(\S+)\s*$/.exec(part);
    const quantity = match ? parseDecimal(match[3]!) : undefined;
    if (!match || !(match[1]! in Segment) || match[1] === "UNSPECIFIED") {
      throw new TradingCoreError(
        "invalid-argument",
        `freeze limit "${part.trim()}" is not SEGMENT=quantity or SEGMENT:security_id=quantity`,
      );
    }
    if (!quantity?.isInteger() || quantity.lessThan(1)) {
      throw new TradingCoreError("invalid-argument", `freeze limit "${part.trim()}" must be a whole number of units, at least 1`);
    }
    limits.set(match[2] ? `${match[1]}:${match[2]}` : match[1]!, quantity);
  }
  return limits;
}

export function freezeLimitOf(limits: FreezeLimits, segment: Segment, securityId: string): Money | undefined {
  const name = Segment[segment] ?? "";
  return limits.get(`${name}:${securityId}`) ?? limits.get(name);
}

/** The quantities of the slices of `quantity`: freeze-sized ones, then the rest. */
export function sliceQuantities(quantity: Money, freeze: Money | undefined): Money[] {
  if (!freeze || quantity.lessThanOrEqualTo(freeze)) return [quantity];
  const full = quantity.dividedToIntegerBy(freeze).toNumber();
  const rest = quantity.minus(freeze.times(full));
  const slices = Array.from({ length: full }, () => freeze);
  if (rest.greaterThan(0)) slices.push(rest);
  if (slices.length > MAX_SLICES) {
    throw new TradingCoreError(
      "invalid-argument",
      `quantity ${quantity.toFixed()} needs ${slices.length} slices of ${freeze.toFixed()}; at most ${MAX_SLICES}`,
    );
  }
  return slices;
}

const FINAL = new Set([BrokerOrderStatus.TRADED, BrokerOrderStatus.REJECTED, BrokerOrderStatus.CANCELLED, BrokerOrderStatus.EXPIRED]);

/**
 * The slices of one attempt as one order, the way the exit engine follows an
 * attempt: its quantity the attempt's (`expected`, else what was found), its
 * traded quantity and average price over every slice. Final only once every
 * slice is final and every slice of the quantity was found: TRADED when all
 * of it traded, else the refusal of the first slice refused (what traded
 * kept). A slice missing keeps it live (it may still be on its way) until
 * `sendingOver`: once no process may still send it, it was never placed, and
 * the slices found, once final, are the whole order: what they did not trade
 * is refused. One slice in a status nobody recognises makes the whole
 * UNSPECIFIED.
 */
export function combineSlices(
  correlationId: string,
  slices: readonly BrokerOrder[],
  expected: Money | undefined,
  sendingOver = false,
): BrokerOrder {
  if (slices.length === 1 && (!expected || slices[0]!.quantity.greaterThanOrEqualTo(expected))) return { ...slices[0]!, correlationId };
  const found = slices.reduce((sum, slice) => sum.plus(slice.quantity), ZERO);
  const quantity = expected?.greaterThan(found) ? expected : found;
  let traded: FillLot = { quantity: ZERO };
  for (const slice of slices) {
    const lot = slice.averagePrice ? { quantity: slice.tradedQuantity, price: slice.averagePrice } : { quantity: slice.tradedQuantity };
    const price = averageFillPrice(traded, lot);
    traded = price ? { quantity: traded.quantity.plus(lot.quantity), price } : { quantity: traded.quantity.plus(lot.quantity) };
  }
  const missing = quantity.greaterThan(found);
  const waitingForSlice = missing && !sendingOver;
  const refused = slices.find((slice) => slice.status !== BrokerOrderStatus.TRADED && FINAL.has(slice.status));
  const status = slices.some((slice) => slice.status === BrokerOrderStatus.UNSPECIFIED)
    ? BrokerOrderStatus.UNSPECIFIED
    : waitingForSlice || slices.some((slice) => !FINAL.has(slice.status))
      ? traded.quantity.greaterThan(0)
        ? BrokerOrderStatus.PART_TRADED
        : BrokerOrderStatus.PENDING
      : traded.quantity.greaterThanOrEqualTo(quantity)
        ? BrokerOrderStatus.TRADED
        : (refused?.status ?? BrokerOrderStatus.REJECTED);
  const notes = [
    `${slices.length} slice(s): ${slices.map((slice) => `${slice.orderId} ${BrokerOrderStatus[slice.status]}`).join(", ")}`,
    ...(missing
      ? [
          `${quantity.minus(found).toFixed()} of ${quantity.toFixed()} not found at the broker (${sendingOver ? "never placed: no process may still send it" : "a slice not placed, or not visible yet"})`,
        ]
      : []),
    ...(refused?.message ? [refused.message] : []),
  ];
  return {
    orderId: slices[0]!.orderId,
    correlationId,
    status,
    quantity,
    tradedQuantity: traded.quantity,
    ...(traded.price ? { averagePrice: traded.price } : {}),
    message: notes.join("; "),
  };
}
