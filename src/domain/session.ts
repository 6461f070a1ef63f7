/**
 * A strategy's session: the lease of the dead-man switch. The strategy keeps
 * it alive with heartbeats; once `expiresAt` passes without one, the session
 * has lapsed and its lapse action applies to the trackers registered under it.
 *
 * Invariants every session store keeps:
 * - `status` moves OPEN → LAPSED or OPEN → CLOSED, never back and never between
 *   LAPSED and CLOSED.
 * - An OPEN session whose `expiresAt` has passed is lapsed, whether or not a
 *   watchdog has noticed yet: a heartbeat, a close or a registration under it
 *   is refused from that instant.
 * - `expiresAt` = `lastHeartbeatAt` + `ttlMs` while OPEN.
 */
import { type SessionLapseAction, SessionStatus } from "../../gen/tradingcore/v1/session_pb.js";
import { type ExitPlanRules, sameRules } from "./exit-plan.js";

export const MIN_SESSION_TTL_MS = 1_000;
export const MAX_SESSION_TTL_MS = 86_400_000;

export interface SessionSpec {
  readonly sessionId: string;
  readonly ttlMs: number;
  readonly lapseAction: SessionLapseAction;
  /** The rules TIGHTEN gives the session's trackers; absent for EXIT_ALL. Levels are offsets (points, percent). */
  readonly fallbackPlan?: ExitPlanRules;
}

export interface SessionRecord extends SessionSpec {
  readonly status: SessionStatus;
  /** Epoch ms after which the session lapses unless a heartbeat comes first. */
  readonly expiresAt: number;
  readonly openedAt: number;
  readonly lastHeartbeatAt: number;
  /** Epoch ms it lapsed (its `expiresAt`) or was closed; absent while OPEN. */
  readonly endedAt?: number;
}

/** The problem with a session's TTL, or undefined when it is within bounds. */
export function sessionTtlProblem(ttlMs: number): string | undefined {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < MIN_SESSION_TTL_MS || ttlMs > MAX_SESSION_TTL_MS) {
    return `ttl must be from ${MIN_SESSION_TTL_MS / 1000} s to ${MAX_SESSION_TTL_MS / 3_600_000} h, got ${ttlMs} ms`;
  }
  return undefined;
}

/** True when two openings describe the same session (OpenSession idempotency). */
export function sameSession(session: SessionRecord, spec: SessionSpec): boolean {
  return session.ttlMs === spec.ttlMs && session.lapseAction === spec.lapseAction && sameRules(session.fallbackPlan, spec.fallbackPlan);
}

/** A new OPEN session, its lease starting now. */
export function openedSession(spec: SessionSpec, nowMs: number): SessionRecord {
  return { ...spec, status: SessionStatus.OPEN, expiresAt: nowMs + spec.ttlMs, openedAt: nowMs, lastHeartbeatAt: nowMs };
}

/** OPEN and not past its lease at `nowMs`. */
export function isLive(session: SessionRecord, nowMs: number): boolean {
  return session.status === SessionStatus.OPEN && session.expiresAt > nowMs;
}
