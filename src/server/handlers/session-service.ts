/**
 * SessionService handlers: the dead-man switch's leases. Refusals throw
 * TradingCoreError (INVALID_ARGUMENT naming the field, NOT_FOUND,
 * FAILED_PRECONDITION for a session that lapsed or was closed).
 */
import { create } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CloseSessionResponseSchema,
  GetSessionResponseSchema,
  HeartbeatResponseSchema,
  OpenSessionResponseSchema,
  SessionLapseAction,
  SessionService,
} from "../../../gen/tradingcore/v1/session_pb.js";
import { Side } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ExitPlan as WireExitPlan } from "../../../gen/tradingcore/v1/protection_pb.js";
import type { ExitPlanRules } from "../../domain/exit-plan.js";
import { Money } from "../../domain/money.js";
import { sessionTtlProblem } from "../../domain/session.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import { sessionToWire } from "../wire/session-wire.js";
import { parseExitPlan } from "./exit-plan-parsing.js";
import { invalid, parseEnum, parseOrderNo } from "./request-parsing.js";
import type { TradingCoreServices } from "./services.js";

export function sessionServiceHandlers(services: TradingCoreServices): ServiceImpl<typeof SessionService> {
  const { sessions, clock } = services;
  const sessionIdOf = (request: { sessionId: string }) => parseOrderNo(request.sessionId, "session_id");
  return {
    async openSession(request) {
      const lapseAction = parseEnum(SessionLapseAction, request.lapseAction, "lapse_action");
      const fallbackPlan = parseFallbackPlan(request.fallbackPlan, lapseAction);
      const spec = {
        sessionId: sessionIdOf(request),
        ttlMs: parseTtl(request.ttl),
        lapseAction,
        ...(fallbackPlan ? { fallbackPlan } : {}),
      };
      const { session, created } = await sessions.open(spec, clock.now());
      return create(OpenSessionResponseSchema, { session: sessionToWire(session), created });
    },

    async heartbeat(request) {
      const session = await sessions.heartbeat(sessionIdOf(request), clock.now());
      return create(HeartbeatResponseSchema, { session: sessionToWire(session) });
    },

    async closeSession(request) {
      const session = await sessions.close(sessionIdOf(request), clock.now());
      return create(CloseSessionResponseSchema, { session: sessionToWire(session) });
    },

    async getSession(request) {
      const sessionId = sessionIdOf(request);
      const session = await sessions.get(sessionId);
      if (!session) throw new TradingCoreError("not-found", `no session ${sessionId}`);
      return create(GetSessionResponseSchema, { session: sessionToWire(session) });
    },
  };
}

/** A Duration of whole milliseconds within the session bounds. */
function parseTtl(ttl: Duration | undefined): number {
  if (!ttl) throw invalid("ttl is required");
  if (ttl.seconds < 0n || ttl.nanos < 0 || ttl.nanos > 999_999_999 || ttl.seconds > 1_000_000_000n) {
    throw invalid(`ttl is not a valid duration (seconds ${ttl.seconds}, nanos ${ttl.nanos})`);
  }
  const ttlMs = Number(ttl.seconds) * 1000 + Math.floor(ttl.nanos / 1_000_000);
  const problem = sessionTtlProblem(ttlMs);
  if (problem) throw invalid(problem);
  return ttlMs;
}

/**
 * TIGHTEN's plan: required for it and refused otherwise; checked for both
 * sides (at a nominal entry), and with offsets only, since it is applied to
 * trackers of any side and entry.
 */
function parseFallbackPlan(plan: WireExitPlan | undefined, action: SessionLapseAction): ExitPlanRules | undefined {
  if (action !== SessionLapseAction.TIGHTEN) {
    if (plan) throw invalid("fallback_plan is only for SESSION_LAPSE_ACTION_TIGHTEN");
    return undefined;
  }
  if (!plan) throw invalid("fallback_plan is required for SESSION_LAPSE_ACTION_TIGHTEN");
  const rules = parseExitPlan(plan, Side.LONG, NOMINAL_ENTRY, "fallback_plan");
  const absolute = (
    [
      ["stop_loss", rules?.stopLoss],
      ["take_profit", rules?.takeProfit],
      ["trailing_stop.activation", rules?.trailingStop?.activation],
    ] as const
  ).find(([, level]) => level?.kind === "price");
  if (absolute) {
    throw invalid(
      `fallback_plan.${absolute[0]} is a price; give points or percent from the entry (the session's trackers have different entries)`,
    );
  }
  if (!rules || Object.keys(rules).length === 0) throw invalid("fallback_plan sets no rule");
  parseExitPlan(plan, Side.SHORT, NOMINAL_ENTRY, "fallback_plan");
  return rules;
}

const NOMINAL_ENTRY = new Money("100");
