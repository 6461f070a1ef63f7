/** Sessions from the domain to the wire (SessionService). Outbound only. */
import type { Session } from "../../../gen/tradingcore/v1/session_pb.js";
import type { SessionRecord } from "../../domain/session.js";
import { exitPlanToWire } from "./exit-plan-wire.js";
import { durationOf, timestampOf } from "./time-wire.js";

export function sessionToWire(session: SessionRecord): Session {
  return {
    $typeName: "tradingcore.v1.Session",
    sessionId: session.sessionId,
    ttl: durationOf(session.ttlMs),
    lapseAction: session.lapseAction,
    status: session.status,
    expiresAt: timestampOf(session.expiresAt),
    openedAt: timestampOf(session.openedAt),
    lastHeartbeatAt: timestampOf(session.lastHeartbeatAt),
    endedAt: timestampOf(session.endedAt),
    fallbackPlan: session.fallbackPlan && exitPlanToWire({ ...session.fallbackPlan, version: 0 }),
  };
}
