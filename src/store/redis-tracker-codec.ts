/**
 * A TrackerRecord as the fields of a Redis hash, and back. Every value is a
 * string: decimals in plain decimal notation (never a float), enums by name,
 * epoch ms as integers, meta, the exit plan and the trigger as JSON. An optional field that is undefined is
 * absent from the hash. The field table is typed against TrackerRecord, so a
 * field added to the record does not compile until it is given a kind here.
 */
import { ExitReasonCode, ProductType, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { formatDecimal, Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitPlan, ExitTrigger } from "../domain/exit-plan.js";
import { decodeExitPlan, decodeExitTrigger, encodeExitPlan, encodeExitTrigger } from "./exit-plan-json.js";
import { TradingCoreError } from "../domain/trading-core-error.js";

type FieldKind =
  | "string"
  | "decimal"
  | "optional-decimal"
  | "integer"
  | "optional-integer"
  | "boolean"
  | "status"
  | "segment"
  | "side"
  | "reason-code"
  | "optional-product-type"
  | "meta"
  | "exit-plan"
  | "exit-trigger"
  | "optional-string";

const FIELD_KINDS: { readonly [K in keyof Required<TrackerRecord>]: FieldKind } = {
  orderNo: "string",
  segment: "segment",
  securityId: "string",
  symbol: "string",
  side: "side",
  quantity: "decimal",
  entryPrice: "decimal",
  status: "status",
  paper: "boolean",
  meta: "meta",
  productType: "optional-product-type",
  sessionId: "optional-string",
  exitPrice: "optional-decimal",
  exitReason: "string",
  exitReasonCode: "reason-code",
  exitCorrelationId: "string",
  exitOrderId: "string",
  exitedQuantity: "decimal",
  priorExitedQuantity: "decimal",
  priorExitPrice: "optional-decimal",
  exitRequestedAt: "optional-integer",
  exitSendDeadline: "optional-integer",
  referencePrice: "optional-decimal",
  overExitedQuantity: "optional-decimal",
  exitedAt: "optional-integer",
  exitAttempt: "integer",
  fencingToken: "integer",
  version: "integer",
  createdAt: "integer",
  updatedAt: "integer",
  exitPlan: "exit-plan",
  trigger: "exit-trigger",
};

const FIELDS = Object.entries(FIELD_KINDS) as ReadonlyArray<[keyof TrackerRecord, FieldKind]>;

/** The hash fields of a tracker, as a flat [field, value, ...] list; undefined optional fields are left out. */
export function encodeTracker(tracker: TrackerRecord): string[] {
  const flat: string[] = [];
  for (const [field, kind] of FIELDS) {
    const value = tracker[field];
    if (value === undefined) continue;
    flat.push(field, encodeValue(kind, value));
  }
  return flat;
}

/** The tracker stored in a hash; throws `internal` when the hash is not a tracker this codec wrote. */
export function decodeTracker(hash: Readonly<Record<string, string>>): TrackerRecord {
  const record: Record<string, unknown> = {};
  for (const [field, kind] of FIELDS) {
    const text = hash[field];
    if (text === undefined) {
      if (kind.startsWith("optional-") || kind.startsWith("exit-")) continue;
      throw new TradingCoreError("internal", `stored tracker ${hash.orderNo ?? "?"} has no field ${field}`);
    }
    record[field] = decodeValue(kind, text, field);
  }
  return record as unknown as TrackerRecord;
}

/** A flat [field, value, ...] reply (from Lua HGETALL) as a record. */
export function hashFromFlat(flat: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return hash;
}

function encodeValue(kind: FieldKind, value: unknown): string {
  switch (kind) {
    case "string":
    case "optional-string":
      return value as string;
    case "decimal":
    case "optional-decimal":
      return formatDecimal(value as Money);
    case "integer":
    case "optional-integer":
      return String(value as number);
    case "boolean":
      return value ? "1" : "0";
    case "status":
      return TrackerStatus[value as TrackerStatus];
    case "segment":
      return Segment[value as Segment];
    case "side":
      return Side[value as Side];
    case "reason-code":
      return ExitReasonCode[value as ExitReasonCode];
    case "optional-product-type":
      return ProductType[value as ProductType];
    case "meta":
      return JSON.stringify(value);
    case "exit-plan":
      return encodeExitPlan(value as ExitPlan);
    case "exit-trigger":
      return encodeExitTrigger(value as ExitTrigger);
  }
}

function decodeValue(kind: FieldKind, text: string, field: string): unknown {
  switch (kind) {
    case "string":
    case "optional-string":
      return text;
    case "decimal":
    case "optional-decimal":
      return new Money(text);
    case "integer":
    case "optional-integer": {
      const value = Number(text);
      if (!Number.isSafeInteger(value)) throw new TradingCoreError("internal", `stored tracker field ${field} is not an integer: ${text}`);
      return value;
    }
    case "boolean":
      return text === "1";
    case "status":
      return enumValue(TrackerStatus, text, field);
    case "segment":
      return enumValue(Segment, text, field);
    case "side":
      return enumValue(Side, text, field);
    case "reason-code":
      return enumValue(ExitReasonCode, text, field);
    case "optional-product-type":
      return enumValue(ProductType, text, field);
    case "meta":
      return JSON.parse(text) as Record<string, string>;
    case "exit-plan":
      return decodeExitPlan(text);
    case "exit-trigger":
      return decodeExitTrigger(text);
  }
}

function enumValue(enumObject: Record<string, string | number>, name: string, field: string): number {
  const value = enumObject[name];
  if (typeof value !== "number") throw new TradingCoreError("internal", `stored tracker field ${field} has an unknown value ${name}`);
  return value;
}
