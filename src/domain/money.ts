/**
 * Decimal money and quantities. Every price and quantity in tradingcore is a
 * decimal.js value inside and a plain decimal string ("101.55") on the wire;
 * a binary float never holds one.
 */
import { Decimal } from "decimal.js";

/** A decimal.js constructor isolated from the global one, so no caller can change its precision. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type Money = Decimal;

/** Longest decimal string accepted on the wire; longer input is refused, not truncated. */
export const MAX_DECIMAL_LENGTH = 32;

/**
 * The one decimal grammar of the contract: an optional "-", ASCII digits, and
 * optionally "." and more digits. Nothing else: no whitespace around it (not
 * even NBSP, a BOM or U+2028, which trimming used to let through), no "+",
 * no exponent, no leading or trailing ".", no thousands separators, no
 * NaN or Infinity.
 */
const DECIMAL_PATTERN = /^-?[0-9]+(\.[0-9]+)?$/;

/** A description of the grammar, for messages and the contract's comments. */
export const DECIMAL_GRAMMAR = `-?[0-9]+(.[0-9]+)?, at most ${MAX_DECIMAL_LENGTH} characters`;

/** Parses a wire decimal; `undefined` when the text is not exactly a decimal of the contract's grammar. */
export function parseDecimal(text: string): Money | undefined {
  if (text.length === 0 || text.length > MAX_DECIMAL_LENGTH || !DECIMAL_PATTERN.test(text)) return undefined;
  return new Money(text);
}

/** Formats without exponent notation, trailing zeros dropped: "101.50" becomes "101.5". */
export function formatDecimal(value: Money | undefined): string {
  return value === undefined ? "" : value.toFixed();
}

export const ZERO: Money = new Money(0);
