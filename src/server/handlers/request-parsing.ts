/**
 * Inbound requests → domain values, refusing anything malformed with an
 * `invalid-argument` TradingCoreError whose message names the field. Nothing
 * is written before a request has been parsed whole. Lengths and counts are
 * checked before this, once per field (input-bounds.ts); input is quoted
 * only as a bounded, escaped excerpt.
 */
import { ProductType, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { Instrument } from "../../../gen/tradingcore/v1/common_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { RegisterTrackerRequest } from "../../../gen/tradingcore/v1/exit_pb.js";
import { DECIMAL_GRAMMAR, type Money, parseDecimal } from "../../domain/money.js";
import { excerpt } from "../../domain/text-excerpt.js";
import type { TrackerSpec } from "../../domain/tracker.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import { orderNoProblem } from "../../exit/exit-command.js";
import { parseExitPlan } from "./exit-plan-parsing.js";
import type { InstrumentKey } from "../../exit/ports.js";

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

/** A decimal string of the contract's grammar, exactly (no whitespace around it), > 0. */
export function parsePositiveDecimal(text: string, field: string): Money {
  if (text === "") throw invalid(`${field} is required`);
  const value = parseDecimal(text);
  if (!value) throw invalid(`${field} ${excerpt(text)} is not a decimal number (${DECIMAL_GRAMMAR})`);
  if (!value.greaterThan(0)) throw invalid(`${field} must be greater than 0, got ${excerpt(text)}`);
  return value;
}

/** google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;

/** A Timestamp within the range its definition allows (nanos 0..999,999,999), as epoch ms; undefined when unset. */
export function parseTimestamp(timestamp: Timestamp | undefined, field: string): number | undefined {
  if (timestamp === undefined) return undefined;
  const { seconds, nanos } = timestamp;
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw invalid(`${field} is not a valid timestamp (seconds ${seconds}, nanos ${nanos}; 0001-01-01 to 9999-12-31 UTC)`);
  }
  return Number(seconds) * 1000 + Math.floor(nanos / 1_000_000);
}

export function parseSecurityId(securityId: string, field = "security_id"): string {
  if (securityId.trim() === "") throw invalid(`${field} is required`);
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
  const side = parseEnum(Side, request.side, "side");
  const entryPrice = parsePositiveDecimal(request.entryPrice, "entry_price");
  const orderNo = parseOrderNo(request.orderNo);
  const segment = parseEnum(Segment, request.segment, "segment");
  const securityId = parseSecurityId(request.securityId);
  const quantity = parsePositiveDecimal(request.quantity, "quantity");
  const meta = parseMeta(request.meta);
  // The plan given at registration is version 1, the tracker's first version.
  const rules = parseExitPlan(request.exitPlan, side, entryPrice);
  return {
    orderNo,
    segment,
    securityId,
    symbol: request.symbol,
    side,
    quantity,
    entryPrice,
    status,
    paper: request.paper,
    meta,
    ...productTypeOf(request.productType),
    ...(rules ? { exitPlan: { ...rules, version: 1 } } : {}),
    ...(request.sessionId === "" ? {} : { sessionId: parseOrderNo(request.sessionId, "session_id") }),
  };
}

/** CO and BO carry their own stop-loss and target legs at the broker: a plain market order cannot close them. */
function productTypeOf(productType: ProductType): { productType?: ProductType } {
  const parsed = productType === ProductType.UNSPECIFIED ? ProductType.UNSPECIFIED : parseEnum(ProductType, productType, "product_type");
  if (parsed === ProductType.CO || parsed === ProductType.BO) {
    throw invalid(
      `product_type ${ProductType[parsed]} cannot be exited here: a ${parsed === ProductType.CO ? "cover" : "bracket"} order carries its own exit legs at the broker`,
    );
  }
  return parsed === ProductType.UNSPECIFIED ? {} : { productType: parsed };
}

function parseMeta(meta: Record<string, string>): Record<string, string> {
  if ("" in meta) throw invalid("meta has an empty key");
  return { ...meta };
}
