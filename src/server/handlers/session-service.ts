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
import { sessionTtlProblem } from "../../domain/session.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import { sessionToWire } from "../wire/session-wire.js";
import { invalid, parseEnum, parseOrderNo } from "./request-parsing.js";
import type { TradingCoreServices } from "./services.js";

export function sessionServiceHandlers(services: TradingCoreServices): ServiceImpl<typeof SessionService> {
  const { sessions, clock } = services;
  const sessionIdOf = (request: { sessionId: string }) => parseOrderNo(request.sessionId, "session_id");
  return {
    async openSession(request) {
      const spec = {
        sessionId: sessionIdOf(request),
        ttlMs: parseTtl(request.ttl),
        lapseAction: parseEnum(SessionLapseAction, request.lapseAction, "lapse_action"),
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
