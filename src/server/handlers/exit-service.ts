/**
 * ExitService handlers, written once against the generated service and
 * served by every engine. Business outcomes of ExecuteExit are ExitResults;
 * the other RPCs throw TradingCoreError, mapped to status codes at the edge.
 * Requests reach them only through request-guard.ts (routes.ts), so every
 * field is already within its input bound and valid UTF-8.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { ExitReasonCode, ExitStatus, Segment, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import {
  ApplyOrderUpdateResponseSchema,
  BrokerOrderStatus,
  type ExecuteExitResponse,
  type QueryExitsRequest,
  ExitAllResponseSchema,
  ExitService,
  GetTrackerResponseSchema,
  ExitEventKind,
  ListTrackersResponseSchema,
  QueryExitsResponseSchema,
  RegisterTrackerResponseSchema,
  UpdateExitPlanResponseSchema,
  WatchExitsResponseSchema,
} from "../../../gen/tradingcore/v1/exit_pb.js";
import { DECIMAL_GRAMMAR, parseDecimal } from "../../domain/money.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import { excerpt } from "../../domain/text-excerpt.js";
import { DEFAULT_EXIT_ALL_PARALLEL, type ExitAllRequest, exitAll, exitAllProblem } from "../../exit/exit-all.js";
import { exitOutcome } from "../../exit/exit-outcome.js";
import { exitEventToWire } from "../wire/exit-event-wire.js";
import { invalid, parseEnum, parseEnumFilter, parseOrderNo, parseTimestamp, parseTrackerSpec } from "./request-parsing.js";
import { exitOutcomeToWire, trackerToWire } from "../wire/tracker-wire.js";
import type { TradingCoreServices } from "./services.js";
import { decodePageToken, decodeTrailPageToken, encodePageToken, encodeTrailPageToken } from "./page-token.js";
import { watchTrail } from "../../exit/trail-watch.js";
import { queryTrail, type TrailFilter } from "../../exit/trail-query.js";
import { callTraceOf } from "../../rpc/call-trace.js";
import { changeExitPlan } from "../../protection/exit-plan-change.js";
import { parseExitPlan } from "./exit-plan-parsing.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export function exitServiceHandlers(services: TradingCoreServices): ServiceImpl<typeof ExitService> {
  const { engine, store, sessions, orderUpdates, events, trail, stopping, clock, protection, timeExits } = services;
  return {
    async registerTracker(request) {
      const spec = parseTrackerSpec(request);
      // Recorded under the session first: a session that is unknown or ended refuses the registration before anything is written.
      if (spec.sessionId !== undefined) await sessions.attach(spec.sessionId, spec.orderNo, clock.now());
      const { tracker, created } = await store.register(spec, clock.now());
      if (tracker.exitPlan) protection.watch(tracker);
      // Also when it existed already: a registration retried after a failed answer records its due times then.
      await timeExits.watch(tracker);
      return create(RegisterTrackerResponseSchema, { tracker: trackerToWire(tracker), created });
    },

    async getTracker(request) {
      const orderNo = parseOrderNo(request.orderNo);
      const tracker = await store.get(orderNo);
      if (!tracker) throw new TradingCoreError("not-found", `no tracker with order_no ${orderNo}`);
      const state = tracker.exitPlan ? await protection.stateOf(tracker) : undefined;
      return create(GetTrackerResponseSchema, { tracker: trackerToWire(tracker, state) });
    },

    async updateExitPlan(request) {
      const orderNo = parseOrderNo(request.orderNo);
      if (request.expectedVersion === 0n) throw invalid("expected_version is required");
      const tracker = await store.get(orderNo);
      if (!tracker) throw new TradingCoreError("not-found", `no tracker with order_no ${orderNo}`);
      const rules = parseExitPlan(request.exitPlan, tracker.side, tracker.entryPrice);
      const changed = await changeExitPlan(store, tracker, rules, Number(request.expectedVersion), clock.now());
      protection.watch(changed);
      await timeExits.watch(changed);
      return create(UpdateExitPlanResponseSchema, { tracker: trackerToWire(changed) });
    },

    async listTrackers(request) {
      const status = parseEnumFilter(TrackerStatus, request.status, "status");
      const segment = parseEnumFilter(Segment, request.segment, "segment");
      if (request.pageSize > MAX_PAGE_SIZE) throw invalid(`page_size must be at most ${MAX_PAGE_SIZE}`);
      const after = decodePageToken(request.pageToken);
      const page = await store.list(
        { ...(status === undefined ? {} : { status }), ...(segment === undefined ? {} : { segment }) },
        { ...(after === undefined ? {} : { after }), limit: request.pageSize || DEFAULT_PAGE_SIZE },
      );
      return create(ListTrackersResponseSchema, {
        trackers: page.trackers.map((tracker) => trackerToWire(tracker)),
        nextPageToken: page.nextCursor === undefined ? "" : encodePageToken(page.nextCursor),
      });
    },

    async executeExit(request, context) {
      const timeoutMs = context.timeoutMs();
      const command = {
        orderNo: request.orderNo,
        reason: request.reason,
        reasonCode: request.reasonCode,
        ...(timeoutMs === undefined ? {} : { answerByMs: clock.now() + timeoutMs }),
      };
      const outcome = await engine.execute(command, callTraceOf(context.values));
      const response: ExecuteExitResponse = { $typeName: "tradingcore.v1.ExecuteExitResponse", result: exitOutcomeToWire(outcome) };
      return response;
    },

    async *exitAll(request, context) {
      const segment = parseEnumFilter(Segment, request.segment, "segment");
      const exitAllRequest: ExitAllRequest = {
        ...(segment === undefined ? {} : { segment }),
        ...(request.paper === undefined ? {} : { paper: request.paper }),
        reason: request.reason,
        reasonCode: request.reasonCode,
        maxParallel: request.maxParallel || DEFAULT_EXIT_ALL_PARALLEL,
      };
      const problem = exitAllProblem(exitAllRequest);
      if (problem) throw invalid(problem);
      // Cancellation (the client's, or shutdown) stops new exits; exits already started still finish.
      const signal = AbortSignal.any([context.signal, stopping]);
      for await (const { outcome } of exitAll({ engine, store }, exitAllRequest, signal, callTraceOf(context.values))) {
        yield create(ExitAllResponseSchema, { result: exitOutcomeToWire(outcome) });
      }
    },

    async applyOrderUpdate(request) {
      const correlationId = request.correlationId.trim();
      if (correlationId === "") throw invalid("correlation_id is required");
      const status = parseEnum(BrokerOrderStatus, request.status, "status");
      const tradedQuantity = optionalDecimal(request.tradedQuantity, "traded_quantity");
      const averagePrice = optionalDecimal(request.averagePrice, "average_price");
      const result = await orderUpdates.apply({
        correlationId,
        orderId: request.orderId,
        status,
        ...(tradedQuantity ? { tradedQuantity } : {}),
        ...(averagePrice ? { averagePrice } : {}),
        updateTimeMs: parseTimestamp(request.updateTime, "update_time") ?? clock.now(),
      });
      return create(ApplyOrderUpdateResponseSchema, {
        applied: result.applied,
        tracker: result.tracker ? trackerToWire(result.tracker) : undefined,
        message: result.message,
      });
    },

    async *watchExits(request, context) {
      const orderNo = request.orderNo === "" ? undefined : parseOrderNo(request.orderNo);
      const fromMs = request.fromSequence > 0n ? undefined : parseTimestamp(request.fromTime, "from_time");
      const watch = watchTrail(trail, events, {
        ...(orderNo === undefined ? {} : { orderNo }),
        ...(request.fromSequence > 0n ? { afterSequence: request.fromSequence } : {}),
        ...(fromMs === undefined ? {} : { fromMs }),
        signal: context.signal,
      });
      // A watcher that falls behind is dropped by the hub and ends with RESOURCE_EXHAUSTED; exits never wait for it.
      for await (const event of watch) yield create(WatchExitsResponseSchema, { event: exitEventToWire(event) });
    },

    async queryExits(request) {
      const filter = parseTrailFilter(request);
      if (request.pageSize > MAX_PAGE_SIZE) throw invalid(`page_size must be at most ${MAX_PAGE_SIZE}`);
      const after = decodeTrailPageToken(request.pageToken);
      const page = await queryTrail(trail, filter, {
        ...(after === undefined ? {} : { after }),
        limit: request.pageSize || DEFAULT_PAGE_SIZE,
      });
      return create(QueryExitsResponseSchema, {
        events: page.events.map(exitEventToWire),
        nextPageToken: page.nextAfter === undefined ? "" : encodeTrailPageToken(page.nextAfter),
      });
    },
  };
}

/** ExecuteExit's answer to a request the edge refuses: OK with an INVALID_REQUEST result, as its contract promises for every invalid input. */
export function executeExitRefusal(problem: string): ExecuteExitResponse {
  return {
    $typeName: "tradingcore.v1.ExecuteExitResponse",
    result: exitOutcomeToWire(exitOutcome(ExitStatus.INVALID_REQUEST, { message: problem })),
  };
}

/** QueryExits' filter: every field optional; a time range must not end before it starts. */
function parseTrailFilter(request: QueryExitsRequest): TrailFilter {
  const fromMs = parseTimestamp(request.fromTime, "from_time");
  const toMs = parseTimestamp(request.toTime, "to_time");
  if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) throw invalid("to_time must not be before from_time");
  const status = parseEnumFilter(ExitStatus, request.status, "status");
  const kind = parseEnumFilter(ExitEventKind, request.kind, "kind");
  const reasonCode = parseEnumFilter(ExitReasonCode, request.reasonCode, "reason_code");
  return {
    ...(fromMs === undefined ? {} : { fromMs }),
    ...(toMs === undefined ? {} : { toMs }),
    ...(request.orderNo === "" ? {} : { orderNo: parseOrderNo(request.orderNo) }),
    ...(status === undefined ? {} : { status }),
    ...(kind === undefined ? {} : { kind }),
    ...(reasonCode === undefined ? {} : { reasonCode }),
    ...(request.reason === "" ? {} : { reason: request.reason }),
  };
}

/** Empty means unset; anything else must be a decimal of the contract's grammar, >= 0. */
function optionalDecimal(text: string, field: string) {
  if (text === "") return undefined;
  const value = parseDecimal(text);
  if (!value || value.isNegative()) throw invalid(`${field} ${excerpt(text)} is not a non-negative decimal number (${DECIMAL_GRAMMAR})`);
  return value;
}
