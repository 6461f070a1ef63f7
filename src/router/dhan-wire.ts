/**
 * Dhan v2 order shapes: exchange segments, order statuses, error codes, and
 * JSON parsing that keeps prices exact (numbers in price fields are read as
 * their decimal text, never through a binary float).
 */
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";

/** Dhan's exchangeSegment for each tradable segment; IDX_I (indices) is not tradable. */
export const DHAN_EXCHANGE_SEGMENTS: Partial<Record<Segment, string>> = {
  [Segment.NSE_EQ]: "NSE_EQ",
  [Segment.NSE_FNO]: "NSE_FNO",
  [Segment.NSE_CURRENCY]: "NSE_CURRENCY",
  [Segment.BSE_EQ]: "BSE_EQ",
  [Segment.BSE_FNO]: "BSE_FNO",
  [Segment.BSE_CURRENCY]: "BSE_CURRENCY",
  [Segment.MCX_COMM]: "MCX_COMM",
};

/**
 * Every order status Dhan documents: the v2 annexure (TRANSIT, PENDING,
 * CLOSED and TRIGGERED for Super Orders, REJECTED, CANCELLED, PART_TRADED,
 * TRADED, EXPIRED) and the SDK's constant/order_status.py (CONFIRM, for
 * Forever orders). Anything else reads as UNSPECIFIED: not understood, so
 * never taken as a fill or a refusal.
 */
const STATUSES: Record<string, BrokerOrderStatus> = {
  TRANSIT: BrokerOrderStatus.TRANSIT,
  PENDING: BrokerOrderStatus.PENDING,
  PART_TRADED: BrokerOrderStatus.PART_TRADED,
  TRADED: BrokerOrderStatus.TRADED,
  REJECTED: BrokerOrderStatus.REJECTED,
  CANCELLED: BrokerOrderStatus.CANCELLED,
  EXPIRED: BrokerOrderStatus.EXPIRED,
  CLOSED: BrokerOrderStatus.CLOSED,
  TRIGGERED: BrokerOrderStatus.TRIGGERED,
  CONFIRM: BrokerOrderStatus.CONFIRM,
};

export function brokerOrderStatusOf(text: unknown): BrokerOrderStatus {
  return STATUSES[String(text ?? "").toUpperCase()] ?? BrokerOrderStatus.UNSPECIFIED;
}

/** DH-904: rate limited before the order was accepted — definitely not placed, safe to retry. */
export const RATE_LIMIT_ERROR = "DH-904";
/**
 * DH-901 (token invalid or expired), DH-902 (no access to the Trading APIs),
 * DH-903 (an account problem, e.g. a segment not activated): nothing was
 * placed, and no order will be until someone fixes the credentials or the
 * account, so they mean "router unavailable", not "this order refused".
 */
export const CREDENTIAL_ERRORS = new Set(["DH-901", "DH-902", "DH-903"]);
/** Errors after which this order definitely was not placed: input and order validation, data errors. */
export const DEFINITE_REJECTIONS = new Set(["DH-905", "DH-906", "DH-907"]);
/**
 * DH-907, "data error": Dhan's answer when a request's parameters match no
 * data. For a look-up by a correlation id we made, that is "no such order".
 */
export const NO_DATA_ERROR = "DH-907";
/** Dhan's internal, network and other errors: the order may or may not exist, whatever the HTTP status. */
export const UNKNOWN_OUTCOME_ERRORS = new Set(["DH-908", "DH-909", "DH-910"]);

const PRICE_FIELDS = [
  "price",
  "triggerPrice",
  "averageTradedPrice",
  "quantity",
  "filledQty",
  "remainingQuantity",
  "tradedQuantity",
  "tradedPrice",
];
const NUMBER_IN_PRICE_FIELD = new RegExp(`"(${PRICE_FIELDS.join("|")})"\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)`, "g");

/** JSON.parse, with the numbers of price and quantity fields kept as strings so that no digit is lost. */
export function parseBrokerJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  return JSON.parse(text.replace(NUMBER_IN_PRICE_FIELD, '"$1":"$2"'));
}
