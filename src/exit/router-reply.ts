/**
 * Success detection (seed improvement 5): one function that turns whatever a
 * router answered into accepted, rejected or unknown.
 *
 * - `true`, `{ success: true | 1 | "true" | "yes" }` (any case) → accepted.
 * - `false`, `{ success: false | 0 | "false" | "no" }` → rejected (a definite no).
 * - A broker order status (`orderStatus` or `status`): TRANSIT, PENDING,
 *   PART_TRADED, TRADED (and Dhan's CLOSED, TRIGGERED, CONFIRM) → accepted; REJECTED, CANCELLED, EXPIRED → rejected.
 * - Anything else (null, an unknown shape or word) → unknown: the order may
 *   exist, so it is looked up, never re-placed.
 */
import { Decimal } from "decimal.js";
import type { FillLot } from "../domain/exit-fill.js";
import { type Money, parseDecimal } from "../domain/money.js";

export type RouterOutcome =
  | { readonly kind: "accepted"; readonly orderId: string; readonly fill?: { price: Money; quantity: Money } }
  /** `traded`: what the order filled before its rest was refused (a partial fill), when any. */
  | { readonly kind: "rejected"; readonly orderId: string; readonly message: string; readonly traded?: FillLot }
  | { readonly kind: "unknown"; readonly message: string };

const ACCEPTED_WORDS = new Set(["true", "yes", "1"]);
const REJECTED_WORDS = new Set(["false", "no", "0"]);
const WORKING_STATUSES = new Set(["TRANSIT", "PENDING", "PART_TRADED", "TRADED", "CLOSED", "TRIGGERED", "CONFIRM"]);
const DEAD_STATUSES = new Set(["REJECTED", "CANCELLED", "EXPIRED"]);

export function classifyRouterReply(reply: unknown): RouterOutcome {
  if (reply === true) return { kind: "accepted", orderId: "" };
  if (reply === false) return { kind: "rejected", orderId: "", message: "router answered false" };
  if (reply === null || typeof reply !== "object" || Array.isArray(reply)) {
    return { kind: "unknown", message: `unrecognised router reply: ${describe(reply)}` };
  }
  const fields = reply as Record<string, unknown>;
  const orderId = textOf(fields.orderId ?? fields.order_id);
  const message = textOf(fields.message ?? fields.errorMessage ?? fields.error);

  if ("success" in fields) {
    const word = textOf(fields.success).toLowerCase();
    if (ACCEPTED_WORDS.has(word)) return accepted(orderId, fields);
    if (REJECTED_WORDS.has(word)) return { kind: "rejected", orderId, message: message || `router answered success=${word}` };
    return { kind: "unknown", message: `unrecognised success value: ${describe(fields.success)}` };
  }
  const status = textOf(fields.orderStatus ?? fields.status).toUpperCase();
  if (WORKING_STATUSES.has(status)) return accepted(orderId, fields);
  if (DEAD_STATUSES.has(status)) return { kind: "rejected", orderId, message: message || `broker order ${status}` };
  return { kind: "unknown", message: `unrecognised router reply: ${describe(reply)}` };
}

function accepted(orderId: string, fields: Record<string, unknown>): RouterOutcome {
  const status = textOf(fields.orderStatus ?? fields.status).toUpperCase();
  const price = parseDecimal(textOf(fields.averageTradedPrice ?? fields.averagePrice));
  const quantity = parseDecimal(textOf(fields.filledQty ?? fields.tradedQuantity));
  const fill = status === "TRADED" && price?.greaterThan(0) && quantity ? { price, quantity } : undefined;
  return fill ? { kind: "accepted", orderId, fill } : { kind: "accepted", orderId };
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Decimal.isDecimal(value)) return value.toFixed();
  return "";
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
