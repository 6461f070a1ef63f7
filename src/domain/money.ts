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

const DECIMAL_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Parses a wire decimal; `undefined` when the text is not a plain decimal number (no exponent, NaN or Infinity). */
export function parseDecimal(text: string): Money | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_DECIMAL_LENGTH || !DECIMAL_PATTERN.test(trimmed)) return undefined;
  return new Money(trimmed);
}

/** Formats without exponent notation, trailing zeros dropped: "101.50" becomes "101.5". */
export function formatDecimal(value: Money | undefined): string {
  return value === undefined ? "" : value.toFixed();
}

export const ZERO: Money = new Money(0);
