/**
 * Every RPC of ExitService, TickService and SessionService as a fuzz target: a valid request
 * and arbitraries of mutations, each a hostile field appended to it and the
 * answer the contract promises for it. A mutation of `invalid` is refused
 * (INVALID_ARGUMENT naming the field; ExecuteExit an INVALID_REQUEST result;
 * PublishTicks counts a malformed tick rejected); one of `harmless` is a
 * hostile but valid value, answered normally, that changes no tracker.
 */
import { create, type DescMessage, type DescMethod, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { ExitStatus, Segment, Side } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus, ExitEventKind, ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { SessionLapseAction, SessionService } from "../../../gen/tradingcore/v1/session_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import {
  anyText,
  blank,
  bytesOf,
  invalidTimestamp,
  invalidUtf8,
  malformedDecimal,
  negativeDecimal,
  nonPositiveDecimal,
  overLength,
  overLongDecimal,
  unknownEnum,
  unusedOrderNo,
} from "./hostile-values.js";
import { concat, type Fragment, int32Field, int64Field, lengthDelimited, mapEntry, messageField, uint32Field } from "./wire.js";

export type Outcome = "refused" | "tick-rejected";

export interface Mutation {
  /** The field the answer must name (its proto name, the last part of its path). */
  readonly field: string;
  readonly bytes: Fragment;
  readonly outcome: Outcome;
}

export interface FuzzTarget {
  readonly method: DescMethod;
  /** The encoding of a valid request the mutations are appended to. */
  readonly base: Uint8Array;
  readonly invalid: fc.Arbitrary<Mutation>;
  /** Hostile but valid requests, whole; absent where a valid request would change trackers or never end. */
  readonly harmless?: fc.Arbitrary<Uint8Array>;
  /** A server stream with no end of its own: only refusals are sent. */
  readonly subscription?: boolean;
}

const HIGHEST = {
  segment: Segment.IDX_I,
  side: Side.SHORT,
  trackerStatus: 5,
  reasonCode: 11,
  brokerStatus: BrokerOrderStatus.EXPIRED,
  exitStatus: ExitStatus.AWAITING_FILL,
  eventKind: ExitEventKind.ORDER_OVERDUE,
};
const encode = <D extends DescMessage>(schema: D, init: MessageInitShape<D>) => toBinary(schema, create(schema, init));

function mutation(field: string, arbitrary: fc.Arbitrary<Fragment>, outcome: Outcome = "refused"): fc.Arbitrary<Mutation> {
  return arbitrary.map((bytes) => ({ field, bytes, outcome }));
}

/** A string field over its bound, or not UTF-8; blank too when the field is required. */
function hostileString(
  fieldNo: number,
  field: string,
  max: number,
  required: boolean,
  ...more: fc.Arbitrary<Uint8Array>[]
): fc.Arbitrary<Mutation> {
  const values = [overLength(max), invalidUtf8(max), ...(required ? [blank] : []), ...more];
  return mutation(
    field,
    fc.oneof(...values).map((value) => lengthDelimited(fieldNo, value)),
  );
}

function hostileEnum(fieldNo: number, field: string, highest: number, zeroInvalid: boolean): fc.Arbitrary<Mutation> {
  const values = zeroInvalid ? fc.oneof(fc.constant(0), unknownEnum(highest)) : unknownEnum(highest);
  return mutation(
    field,
    values.map((value) => int32Field(fieldNo, value)),
  );
}

/** A decimal field: over the 32 characters (refused at the edge) or not of the grammar; `positive` refuses zero and below too. */
function hostileDecimal(fieldNo: number, field: string, positive: boolean, outcome: Outcome): fc.Arbitrary<Mutation> {
  return fc.oneof(
    mutation(
      field,
      fc.oneof(overLongDecimal, invalidUtf8(32)).map((value) => lengthDelimited(fieldNo, value)),
    ),
    mutation(
      field,
      fc.oneof(malformedDecimal, positive ? nonPositiveDecimal : negativeDecimal).map((value) => lengthDelimited(fieldNo, value)),
      outcome,
    ),
  );
}

function timestampField(fieldNo: number, { seconds, nanos }: { seconds: bigint; nanos: number }): Fragment {
  return messageField(fieldNo, int64Field(1, seconds), int32Field(2, nanos));
}

const ORDER_NO_OUTSIDE_PATTERN = anyText(1, 64)
  .filter((text) => !/^[A-Za-z0-9._:-]+$/.test(text))
  .map(bytesOf);
const hostileOrderNo = (fieldNo: number, required: boolean) => hostileString(fieldNo, "order_no", 64, required, ORDER_NO_OUTSIDE_PATTERN);
const hostileSessionId = (fieldNo: number, required: boolean) =>
  hostileString(fieldNo, "session_id", 64, required, ORDER_NO_OUTSIDE_PATTERN);

const hostileMeta: fc.Arbitrary<Mutation> = mutation(
  "meta",
  fc.oneof(
    fc
      .integer({ min: 33, max: 2000 })
      .map((count) => concat(...Array.from({ length: count }, (_, index) => mapEntry(10, bytesOf(`k${index}`), bytesOf("v"))))),
    fc
      .tuple(fc.oneof(overLength(64), invalidUtf8(64), fc.constant(new Uint8Array())), anyText(0, 20).map(bytesOf))
      .map(([key, value]) => mapEntry(10, key, value)),
    fc
      .tuple(
        anyText(1, 20)
          .filter((key) => key.length > 0)
          .map(bytesOf),
        fc.oneof(overLength(256), invalidUtf8(256)),
      )
      .map(([key, value]) => mapEntry(10, key, value)),
  ),
);

/** A mutation moved inside nested messages: `path` the field numbers from the request down (exit_plan, stop_loss, ...). */
function nested(path: readonly number[], inner: fc.Arbitrary<Mutation>): fc.Arbitrary<Mutation> {
  return inner.map((m) => ({ ...m, bytes: path.reduceRight((bytes, fieldNo) => messageField(fieldNo, bytes), m.bytes) }));
}

/** Hostile values inside an exit plan at `planField` of the request. */
function hostileExitPlan(planField: number): fc.Arbitrary<Mutation> {
  return fc.oneof(
    nested([planField, 1], hostileDecimal(2, "points", true, "refused")),
    nested([planField, 2], hostileDecimal(3, "percent", true, "refused")),
    nested([planField, 3], hostileDecimal(3, "step", true, "refused")),
    nested([planField, 3, 1], hostileDecimal(1, "points", true, "refused")),
    nested([planField, 4], hostileDecimal(1, "give_back_percent", true, "refused")),
    nested([planField, 6], hostileString(1, "local_time", 5, false)),
    nested([planField, 6], hostileString(2, "time_zone", 64, false)),
  );
}

/** Over-long or non-UTF-8 values inside an exit plan: refused at the edge, before any tracker is read. */
function overBoundExitPlan(planField: number): fc.Arbitrary<Mutation> {
  const overLong = (fieldNo: number, field: string) =>
    mutation(
      field,
      fc.oneof(overLongDecimal, invalidUtf8(32)).map((value) => lengthDelimited(fieldNo, value)),
    );
  return fc.oneof(nested([planField, 1], overLong(1, "price")), nested([planField, 4], overLong(1, "give_back_percent")));
}

/** An Instrument whose segment or security_id is hostile. */
function hostileInstrument(fieldNo: number, outcome: Outcome): fc.Arbitrary<Mutation> {
  const goodSegment = int32Field(1, Segment.NSE_EQ);
  const goodSecurity = lengthDelimited(2, bytesOf("1333"));
  return fc.oneof(
    mutation(
      "segment",
      fc.oneof(fc.constant(0), unknownEnum(HIGHEST.segment)).map((segment) => messageField(fieldNo, int32Field(1, segment), goodSecurity)),
      outcome,
    ),
    mutation(
      "security_id",
      fc.oneof(overLength(32), invalidUtf8(32)).map((id) => messageField(fieldNo, goodSegment, lengthDelimited(2, id))),
    ),
    mutation(
      "security_id",
      blank.map((id) => messageField(fieldNo, goodSegment, lengthDelimited(2, id))),
      outcome,
    ),
  );
}

function instrumentList(schema: DescMessage): { base: Uint8Array; invalid: fc.Arbitrary<Mutation> } {
  const one = messageField(1, int32Field(1, Segment.NSE_EQ), lengthDelimited(2, bytesOf("1333")));
  return {
    base: encode(schema, { instruments: [{ segment: Segment.NSE_EQ, securityId: "1333" }] } as never),
    invalid: fc.oneof(
      hostileInstrument(1, "refused"),
      mutation(
        "instruments",
        fc.integer({ min: 1000, max: 3000 }).map((count) => concat(...Array.from({ length: count }, () => one))),
      ),
    ),
  };
}

const m = ExitService.method;
const t = TickService.method;
const s = SessionService.method;
const reason = (fieldNo: number) => hostileString(fieldNo, "reason", 256, true);
const harmlessInstrument = anyText(1, 32).filter((id) => id.trim() !== "");

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    method: m.registerTracker,
    base: encode(m.registerTracker.input, {
      orderNo: "FUZZ-REGISTER",
      segment: Segment.NSE_EQ,
      securityId: "1333",
      symbol: "HDFCBANK",
      side: Side.LONG,
      quantity: "1",
      entryPrice: "1",
      paper: true,
    }),
    invalid: fc.oneof(
      hostileOrderNo(1, true),
      hostileEnum(2, "segment", HIGHEST.segment, true),
      hostileString(3, "security_id", 32, true),
      hostileString(4, "symbol", 64, false),
      hostileEnum(5, "side", HIGHEST.side, true),
      hostileDecimal(6, "quantity", true, "refused"),
      hostileDecimal(7, "entry_price", true, "refused"),
      mutation(
        "status",
        fc.oneof(fc.constantFrom(3, 4, 5), unknownEnum(HIGHEST.trackerStatus)).map((status) => int32Field(8, status)),
      ),
      hostileMeta,
      hostileExitPlan(11),
    ),
  },
  {
    // A target of its own: the session a tracker is registered under.
    method: m.registerTracker,
    base: encode(m.registerTracker.input, {
      orderNo: "FUZZ-REGISTER-SESSION",
      segment: Segment.NSE_EQ,
      securityId: "1333",
      symbol: "HDFCBANK",
      side: Side.LONG,
      quantity: "1",
      entryPrice: "1",
      paper: true,
    }),
    invalid: hostileSessionId(12, false),
  },
  {
    method: m.updateExitPlan,
    base: encode(m.updateExitPlan.input, { orderNo: "FUZZ-NONE", expectedVersion: 1n }),
    invalid: fc.oneof(hostileOrderNo(1, true), overBoundExitPlan(2)),
  },
  {
    method: m.getTracker,
    base: encode(m.getTracker.input, { orderNo: "FUZZ-NONE" }),
    invalid: hostileOrderNo(1, true),
    harmless: unusedOrderNo.map((orderNo) => encode(m.getTracker.input, { orderNo })),
  },
  {
    method: m.listTrackers,
    base: encode(m.listTrackers.input, {}),
    invalid: fc.oneof(
      hostileEnum(1, "status", HIGHEST.trackerStatus, false),
      hostileEnum(2, "segment", HIGHEST.segment, false),
      mutation(
        "page_size",
        fc.integer({ min: 1001, max: 2 ** 32 - 1 }).map((size) => uint32Field(3, size)),
      ),
      hostileString(4, "page_token", 128, false, anyText(1, 128).map(bytesOf)),
    ),
    harmless: fc
      .record({ status: fc.integer({ min: 0, max: HIGHEST.trackerStatus }), pageSize: fc.integer({ min: 0, max: 1000 }) })
      .map((init) => encode(m.listTrackers.input, init)),
  },
  {
    method: m.executeExit,
    base: encode(m.executeExit.input, { orderNo: "FUZZ-NONE", reason: "fuzz" }),
    invalid: fc.oneof(
      hostileOrderNo(1, true),
      reason(2),
      mutation(
        "reason_code",
        unknownEnum(HIGHEST.reasonCode).map((code) => int32Field(3, code)),
      ),
    ),
    harmless: fc
      .record({
        orderNo: unusedOrderNo,
        reason: anyText(1, 256).filter((text) => text.trim() !== ""),
        reasonCode: fc.integer({ min: 0, max: HIGHEST.reasonCode }),
      })
      .map((init) => encode(m.executeExit.input, init)),
  },
  {
    method: m.exitAll,
    // Segment BSE_FNO holds no tracker: were a mutation wrongly accepted, the store comparison still sees any exit it made elsewhere.
    base: encode(m.exitAll.input, { segment: Segment.BSE_FNO, reason: "fuzz", maxParallel: 1 }),
    invalid: fc.oneof(
      hostileEnum(1, "segment", HIGHEST.segment, false),
      reason(3),
      mutation(
        "reason_code",
        unknownEnum(HIGHEST.reasonCode).map((code) => int32Field(4, code)),
      ),
      mutation(
        "max_parallel",
        fc.integer({ min: 65, max: 2 ** 32 - 1 }).map((parallel) => uint32Field(5, parallel)),
      ),
    ),
  },
  {
    method: m.applyOrderUpdate,
    base: encode(m.applyOrderUpdate.input, {
      correlationId: "xfuzz-1",
      orderId: "B-1",
      status: BrokerOrderStatus.TRADED,
      tradedQuantity: "1",
      averagePrice: "1",
    }),
    invalid: fc.oneof(
      hostileString(1, "correlation_id", 64, true),
      hostileString(2, "order_id", 64, false),
      hostileEnum(3, "status", HIGHEST.brokerStatus, true),
      hostileDecimal(4, "traded_quantity", false, "refused"),
      hostileDecimal(5, "average_price", false, "refused"),
      mutation(
        "update_time",
        invalidTimestamp.map((time) => timestampField(6, time)),
      ),
    ),
  },
  {
    method: m.watchExits,
    base: encode(m.watchExits.input, { orderNo: "FUZZ-NONE" }),
    invalid: fc.oneof(
      hostileString(1, "order_no", 64, false, ORDER_NO_OUTSIDE_PATTERN),
      mutation(
        "from_time",
        invalidTimestamp.map((time) => timestampField(3, time)),
      ),
    ),
    subscription: true,
  },
  {
    method: m.queryExits,
    base: encode(m.queryExits.input, {}),
    invalid: fc.oneof(
      mutation(
        "from_time",
        invalidTimestamp.map((time) => timestampField(1, time)),
      ),
      mutation(
        "to_time",
        invalidTimestamp.map((time) => timestampField(2, time)),
      ),
      hostileOrderNo(3, false),
      hostileEnum(4, "status", HIGHEST.exitStatus, false),
      hostileEnum(5, "kind", HIGHEST.eventKind, false),
      hostileEnum(6, "reason_code", HIGHEST.reasonCode, false),
      hostileString(7, "reason", 256, false),
      mutation(
        "page_size",
        fc.integer({ min: 1001, max: 2 ** 32 - 1 }).map((size) => uint32Field(8, size)),
      ),
      hostileString(9, "page_token", 128, false, anyText(1, 128).map(bytesOf)),
    ),
    harmless: fc
      .record({
        orderNo: unusedOrderNo,
        status: fc.integer({ min: 0, max: HIGHEST.exitStatus }),
        kind: fc.integer({ min: 0, max: HIGHEST.eventKind }),
        reason: anyText(0, 256),
        pageSize: fc.integer({ min: 0, max: 1000 }),
      })
      .map((init) => encode(m.queryExits.input, init)),
  },
  {
    method: t.publishTicks,
    base: encode(t.publishTicks.input, { ticks: [{ instrument: { segment: Segment.NSE_EQ, securityId: "FUZZ-TICK" }, ltp: "10" }] }),
    invalid: fc.oneof(
      hostileInstrument(1, "tick-rejected").map(({ field, bytes, outcome }) => ({
        field,
        outcome,
        bytes: lengthDelimited(1, concat(bytes, lengthDelimited(2, bytesOf("1")))),
      })),
      hostileDecimal(2, "ltp", true, "tick-rejected").map(({ field, bytes, outcome }) => ({
        field,
        outcome,
        bytes: messageField(1, messageField(1, int32Field(1, Segment.NSE_EQ), lengthDelimited(2, bytesOf("1"))), bytes),
      })),
      mutation("instrument", fc.constant(messageField(1, lengthDelimited(2, bytesOf("1")))), "tick-rejected"),
      mutation(
        "time",
        invalidTimestamp.map((time) =>
          messageField(
            1,
            messageField(1, int32Field(1, Segment.NSE_EQ), lengthDelimited(2, bytesOf("1"))),
            lengthDelimited(2, bytesOf("1")),
            timestampField(3, time),
          ),
        ),
        "tick-rejected",
      ),
      mutation(
        "ticks",
        fc
          .integer({ min: 10_000, max: 12_000 })
          .map((count) => concat(...Array.from({ length: count }, () => messageField(1, lengthDelimited(2, bytesOf("1")))))),
      ),
    ),
    harmless: harmlessInstrument.map((securityId) =>
      encode(t.publishTicks.input, { ticks: [{ instrument: { segment: Segment.MCX_COMM, securityId }, ltp: "1.5" }] }),
    ),
  },
  {
    method: t.getLtp,
    base: encode(t.getLtp.input, { instrument: { segment: Segment.NSE_EQ, securityId: "1333" } }),
    invalid: hostileInstrument(1, "refused"),
    harmless: harmlessInstrument.map((securityId) => encode(t.getLtp.input, { instrument: { segment: Segment.MCX_COMM, securityId } })),
  },
  {
    method: t.getLtps,
    ...instrumentList(t.getLtps.input),
    harmless: fc
      .array(harmlessInstrument, { minLength: 1, maxLength: 50 })
      .map((ids) => encode(t.getLtps.input, { instruments: ids.map((securityId) => ({ segment: Segment.MCX_COMM, securityId })) })),
  },
  { method: t.streamLtp, ...instrumentList(t.streamLtp.input), subscription: true },
  {
    method: s.openSession,
    base: encode(s.openSession.input, { sessionId: "FUZZ-SESSION", ttl: { seconds: 60n }, lapseAction: SessionLapseAction.EXIT_ALL }),
    invalid: fc.oneof(
      hostileSessionId(1, true),
      mutation(
        "ttl",
        fc
          .oneof(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 86_400_001, max: 2 ** 31 - 1 }))
          .map((ms) => messageField(2, int64Field(1, BigInt(Math.floor(ms / 1000))), int32Field(2, (ms % 1000) * 1_000_000))),
      ),
      hostileEnum(3, "lapse_action", SessionLapseAction.EXIT_ALL, true),
    ),
  },
  ...[s.heartbeat, s.closeSession, s.getSession].map((method) => ({
    method,
    base: encode(method.input, { sessionId: "FUZZ-NONE" }),
    invalid: hostileSessionId(1, true),
    harmless: unusedOrderNo.map((sessionId) => encode(method.input, { sessionId })),
  })),
];
