import { type DescMessage, isFieldSet } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ExitReasonCode,
  ExitResultSchema,
  ExitStatus,
  PriceSource,
  ProductType,
  Segment,
  Side,
  TrackerSchema,
  TrackerStatus,
} from "../../../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../../../gen/tradingcore/v1/protection_pb.js";
import { LtpSchema } from "../../../../gen/tradingcore/v1/tick_pb.js";
import { Money } from "../../../../src/domain/money.js";
import type { TrackerRecord } from "../../../../src/domain/tracker.js";
import { ltpToWire } from "../../../../src/server/wire/tick-wire.js";
import { exitOutcomeToWire, trackerToWire } from "../../../../src/server/wire/tracker-wire.js";

/** The fields of `schema` that `message` leaves unset: none, when every domain field was given. */
function unsetFields(schema: DescMessage, message: object): string[] {
  return schema.fields.filter((field) => !isFieldSet(message as never, field)).map((field) => field.name);
}

const EXITED: TrackerRecord = {
  orderNo: "ORD-1",
  segment: Segment.NSE_EQ,
  securityId: "1333",
  symbol: "HDFCBANK",
  side: Side.LONG,
  quantity: new Money("10"),
  entryPrice: new Money("100.5"),
  status: TrackerStatus.EXITED,
  paper: true,
  meta: { strategy: "s1" },
  exitPrice: new Money("101.25"),
  exitReason: "stop loss",
  exitReasonCode: ExitReasonCode.STOP_LOSS,
  exitCorrelationId: "x1-1",
  exitOrderId: "9001",
  exitedQuantity: new Money("10"),
  priorExitedQuantity: new Money("0"),
  exitRequestedAt: 1_000,
  exitedAt: 2_000,
  exitAttempt: 1,
  fencingToken: 7,
  version: 3,
  createdAt: 500,
  updatedAt: 2_000,
  exitSendDeadline: 1_900,
  referencePrice: new Money("101.3"),
  overExitedQuantity: new Money("0"),
  productType: ProductType.MARGIN,
  sessionId: "strategy-a",
  exitPlan: { stopLoss: { kind: "points", value: new Money("2") }, version: 1 },
  trigger: { rule: ProtectionRule.STOP_LOSS, level: new Money("98.5"), tickPrice: new Money("98.4"), tickTimeMs: 1_000, planVersion: 1 },
};

describe("answers written as message literals", () => {
  it("set every field of a Tracker for a tracker that has every field", () => {
    const wire = trackerToWire(EXITED, { planVersion: 1, trailArmed: false, peakArmed: false });
    expect(wire.$typeName).toBe(TrackerSchema.typeName);
    expect(unsetFields(TrackerSchema, wire)).toEqual([]);
  });

  it("set every field of an ExitResult for an outcome that has every field", () => {
    const wire = exitOutcomeToWire({
      status: ExitStatus.EXITED,
      success: true,
      tracker: EXITED,
      exitPrice: new Money("101.25"),
      referencePrice: new Money("101.3"),
      priceSource: PriceSource.FILL,
      priceAgeMs: 1_500,
      priceStale: true,
      correlationId: "x1-1",
      exitOrderId: "9001",
      message: "exited",
      attempts: 1,
    });
    expect(wire.$typeName).toBe(ExitResultSchema.typeName);
    expect(unsetFields(ExitResultSchema, wire)).toEqual([]);
  });

  it("set every field of an Ltp for a quote that has every field", () => {
    const wire = ltpToWire(
      { segment: Segment.NSE_EQ, securityId: "1333" },
      { found: true, price: new Money("101.25"), source: PriceSource.MEMORY, ageMs: 1_500, stale: true, tickTimeMs: 1_000 },
    );
    expect(wire.$typeName).toBe(LtpSchema.typeName);
    expect(unsetFields(LtpSchema, wire)).toEqual([]);
  });
});
