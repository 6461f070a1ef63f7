/**
 * Inbound requests → domain values, refusing anything malformed with an
 * `invalid-argument` TradingCoreError whose message names the field. Nothing
 * is written before a request has been parsed whole.
 */
import { Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { Instrument } from "../../gen/tradingcore/v1/common_pb.js";
import type { RegisterTrackerRequest } from "../../gen/tradingcore/v1/exit_pb.js";
import { type Money, parseDecimal } from "../domain/money.js";
import type { TrackerSpec } from "../domain/tracker.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import { orderNoProblem } from "../exit/exit-command.js";
import type { InstrumentKey } from "../exit/ports.js";

export const MAX_SECURITY_ID_LENGTH = 32;
export const MAX_SYMBOL_LENGTH = 64;
export const MAX_META_ENTRIES = 32;
export const MAX_META_KEY_LENGTH = 64;
export const MAX_META_VALUE_LENGTH = 256;

export function invalid(message: string): TradingCoreError {
  return new TradingCoreError("invalid-argument", message);
}

export function parseOrderNo(orderNo: string, field = "order_no"): string {
  const problem = orderNoProblem(orderNo, field);
  if (problem) throw invalid(problem);
  return orderNo;
}

/** A known enum value other than UNSPECIFIED (0). */
export function parseEnum<E extends number>(enumObject: Record<number, string>, value: E, field: string): E {
  if (value === 0) throw invalid(`${field} is required`);
  if (!(value in enumObject)) throw invalid(`${field} ${value} is not a known value`);
  return value;
}

/** An enum filter: UNSPECIFIED means "any" (undefined); unknown numbers are refused. */
export function parseEnumFilter<E extends number>(enumObject: Record<number, string>, value: E, field: string): E | undefined {
  return value === 0 ? undefined : parseEnum(enumObject, value, field);
}

/** A decimal string > 0. */
export function parsePositiveDecimal(text: string, field: string): Money {
  if (text.trim() === "") throw invalid(`${field} is required`);
  const value = parseDecimal(text);
  if (!value) throw invalid(`${field} "${text.slice(0, 40)}" is not a decimal number`);
  if (!value.greaterThan(0)) throw invalid(`${field} must be greater than 0, got ${text}`);
  return value;
}

export function parseSecurityId(securityId: string, field = "security_id"): string {
  if (securityId.trim() === "") throw invalid(`${field} is required`);
  if (securityId.length > MAX_SECURITY_ID_LENGTH) throw invalid(`${field} is longer than ${MAX_SECURITY_ID_LENGTH} characters`);
  return securityId;
}

export function parseInstrument(instrument: Instrument | undefined, field = "instrument"): InstrumentKey {
  if (!instrument) throw invalid(`${field} is required`);
  return {
    segment: parseEnum(Segment, instrument.segment, `${field}.segment`),
    securityId: parseSecurityId(instrument.securityId, `${field}.security_id`),
  };
}

export function parseTrackerSpec(request: RegisterTrackerRequest): TrackerSpec {
  const status = request.status === TrackerStatus.UNSPECIFIED ? TrackerStatus.ACTIVE : request.status;
  if (status !== TrackerStatus.ACTIVE && status !== TrackerStatus.PENDING) {
    throw invalid(`status must be ACTIVE or PENDING at registration, got ${TrackerStatus[status] ?? status}`);
  }
  if (request.symbol.length > MAX_SYMBOL_LENGTH) throw invalid(`symbol is longer than ${MAX_SYMBOL_LENGTH} characters`);
  return {
    orderNo: parseOrderNo(request.orderNo),
    segment: parseEnum(Segment, request.segment, "segment"),
    securityId: parseSecurityId(request.securityId),
    symbol: request.symbol,
    side: parseEnum(Side, request.side, "side"),
    quantity: parsePositiveDecimal(request.quantity, "quantity"),
    entryPrice: parsePositiveDecimal(request.entryPrice, "entry_price"),
    status,
    paper: request.paper,
    meta: parseMeta(request.meta),
  };
}

function parseMeta(meta: Record<string, string>): Record<string, string> {
  const entries = Object.entries(meta);
  if (entries.length > MAX_META_ENTRIES) throw invalid(`meta has more than ${MAX_META_ENTRIES} entries`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_META_KEY_LENGTH) throw invalid(`meta key "${key.slice(0, 40)}" must be 1..${MAX_META_KEY_LENGTH} characters`);
    if (value.length > MAX_META_VALUE_LENGTH) throw invalid(`meta["${key}"] is longer than ${MAX_META_VALUE_LENGTH} characters`);
  }
  return { ...meta };
}
