/**
 * Dhan's live order update (`wss://api-order-update.dhan.co`): the login
 * message, and an `order_alert` read as an order update of ours.
 *
 * What the feed says, as Dhan documents it: one JSON text message per change,
 * `{"Type":"order_alert","Data":{…}}`, with PascalCase fields (`OrderNo`,
 * `ExchOrderNo`, `TxnType` "B"/"S", `Product` "I"/"C"/"M"/"F"/"V"/"B",
 * `OrderType`, `Status`, `Quantity`, `TradedQty`, `RemainingQuantity`,
 * `TradedPrice`, `AvgTradedPrice`, `LastUpdatedTime`, `CorrelationId`,
 * `ReasonDescription`, …). `Status` is read without regard to case ("Traded",
 * "TRADED", "Part_Traded"): the feed's casing differs from the REST API's.
 * `LastUpdatedTime` is Indian Standard Time without a zone
 * ("2026-12-02 13:45:10"), so it is read as +05:30.
 *
 * Guarantees: quantities and prices are read from their JSON text, never
 * through a binary float; an alert that is not an exit order of ours (no
 * correlation id of the exit engine's shape) is reported as `foreign`, so the
 * account's other orders are never parked as if they were ours.
 */
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { type Money, parseDecimal } from "../domain/money.js";
import type { OrderUpdate } from "../exit/order-update-change.js";
import { brokerOrderStatusOf } from "./dhan-wire.js";

/** The documented login: message code 42, an individual account. */
export function orderFeedLogin(clientId: string, token: string): string {
  return JSON.stringify({ LoginReq: { MsgCode: 42, ClientId: clientId, Token: token }, UserType: "SELF" });
}

export type OrderAlertReading =
  | { readonly kind: "update"; readonly update: OrderUpdate }
  /** An order of the account that is not one of our exits (an entry, a manual order). */
  | { readonly kind: "foreign"; readonly orderNo: string }
  /** A message of another type (a login answer, a heartbeat). */
  | { readonly kind: "other"; readonly type: string }
  | { readonly kind: "invalid"; readonly why: string };

/** Correlation ids the exit engine derives (`exitCorrelationId`): `x`, 16 hex digits, `-`, the attempt, maybe more. */
const EXIT_CORRELATION_ID = /^x[0-9a-f]{16}-[0-9A-Za-z-]+$/;

const DECIMAL_FIELDS = ["Quantity", "TradedQty", "RemainingQuantity", "TradedPrice", "AvgTradedPrice", "Price", "TriggerPrice"];
const NUMBER_IN_DECIMAL_FIELD = new RegExp(`"(${DECIMAL_FIELDS.join("|")})"\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)`, "g");

/** Reads one text message of the order update feed. Never throws. */
export function readOrderAlert(text: string, nowMs: number): OrderAlertReading {
  let message: unknown;
  try {
    message = JSON.parse(text.replace(NUMBER_IN_DECIMAL_FIELD, '"$1":"$2"'));
  } catch {
    return { kind: "invalid", why: "not JSON" };
  }
  if (typeof message !== "object" || message === null) return { kind: "invalid", why: "not a JSON object" };
  const { Type: type, Data: data } = message as Record<string, unknown>;
  if (type !== "order_alert") return { kind: "other", type: String(type ?? "") };
  if (typeof data !== "object" || data === null) return { kind: "invalid", why: "order_alert without Data" };
  const fields = data as Record<string, unknown>;
  const orderNo = String(fields.OrderNo ?? "");
  const correlationId = String(fields.CorrelationId ?? "").trim();
  if (!EXIT_CORRELATION_ID.test(correlationId)) return { kind: "foreign", orderNo };
  const status = brokerOrderStatusOf(fields.Status);
  if (status === BrokerOrderStatus.UNSPECIFIED) return { kind: "invalid", why: `unrecognised Status ${JSON.stringify(fields.Status)}` };
  const tradedQuantity = decimalOf(fields.TradedQty);
  const averagePrice = decimalOf(fields.AvgTradedPrice);
  return {
    kind: "update",
    update: {
      correlationId,
      orderId: orderNo,
      status,
      ...(tradedQuantity ? { tradedQuantity } : {}),
      ...(averagePrice?.greaterThan(0) ? { averagePrice } : {}),
      updateTimeMs: istToEpochMs(String(fields.LastUpdatedTime ?? "")) ?? nowMs,
    },
  };
}

function decimalOf(value: unknown): Money | undefined {
  return value === undefined || value === null ? undefined : parseDecimal(String(value).trim());
}

const IST_OFFSET_MS = 330 * 60_000;

/** "2026-12-02 13:45:10" (IST, no zone) as epoch ms, or undefined when it is not that shape. */
export function istToEpochMs(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) - IST_OFFSET_MS;
}

/** Epoch ms as Dhan writes a time: IST, seconds, no zone. */
export function epochMsToIst(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000 + IST_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ");
}
