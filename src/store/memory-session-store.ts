/**
 * The embedded session store: one Map, for a single process. Atomic because
 * no method awaits mid-update; semantics are the Redis store's, checked by
 * the same contract suite.
 */
import { SessionStatus } from "../../gen/tradingcore/v1/session_pb.js";
import { isLive, openedSession, sameSession, type SessionRecord, type SessionSpec } from "../domain/session.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { LapseClaim, SessionStore } from "../session/session-store.js";

interface Entry {
  session: SessionRecord;
  readonly trackers: Set<string>;
  /** Epoch ms at which the lapse is (next) claimable; absent once settled or closed. */
  dueAt?: number;
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Entry>();

  async open(spec: SessionSpec, nowMs: number): Promise<{ session: SessionRecord; created: boolean }> {
    const entry = this.sessions.get(spec.sessionId);
    if (!entry) {
      const session = openedSession(spec, nowMs);
      this.sessions.set(spec.sessionId, { session, trackers: new Set(), dueAt: session.expiresAt });
      return { session, created: true };
    }
    if (!sameSession(entry.session, spec)) {
      throw new TradingCoreError(
        "failed-precondition",
        `session ${spec.sessionId} is already open with another ttl, lapse action or fallback plan`,
      );
    }
    return { session: this.extend(entry, nowMs), created: false };
  }

  async heartbeat(sessionId: string, nowMs: number): Promise<SessionRecord> {
    return this.extend(this.entry(sessionId), nowMs);
  }

  async close(sessionId: string, nowMs: number): Promise<SessionRecord> {
    const entry = this.entry(sessionId);
    if (entry.session.status === SessionStatus.CLOSED) return entry.session;
    this.assertLive(entry, nowMs);
    entry.session = { ...entry.session, status: SessionStatus.CLOSED, endedAt: nowMs };
    delete entry.dueAt;
    return entry.session;
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(sessionId)?.session;
  }

  async attach(sessionId: string, orderNo: string, nowMs: number): Promise<void> {
    const entry = this.entry(sessionId);
    this.assertLive(entry, nowMs);
    entry.trackers.add(orderNo);
  }

  async trackersOf(sessionId: string): Promise<string[]> {
    return [...(this.sessions.get(sessionId)?.trackers ?? [])].sort();
  }

  async claimLapsed(nowMs: number, retryAfterMs: number, limit: number): Promise<LapseClaim[]> {
    const due = [...this.sessions.values()]
      .filter((entry) => entry.dueAt !== undefined && entry.dueAt <= nowMs)
      .sort((a, b) => a.dueAt! - b.dueAt! || (a.session.sessionId < b.session.sessionId ? -1 : 1))
      .slice(0, limit);
    return due.map((entry) => {
      const first = entry.session.status === SessionStatus.OPEN;
      if (first) entry.session = { ...entry.session, status: SessionStatus.LAPSED, endedAt: entry.session.expiresAt };
      entry.dueAt = nowMs + retryAfterMs;
      return { session: entry.session, first };
    });
  }

  async settle(sessionId: string): Promise<void> {
    const entry = this.sessions.get(sessionId);
    if (entry) delete entry.dueAt;
  }

  private extend(entry: Entry, nowMs: number): SessionRecord {
    this.assertLive(entry, nowMs);
    entry.session = { ...entry.session, lastHeartbeatAt: nowMs, expiresAt: nowMs + entry.session.ttlMs };
    entry.dueAt = entry.session.expiresAt;
    return entry.session;
  }

  private entry(sessionId: string): Entry {
    const entry = this.sessions.get(sessionId);
    if (!entry) throw new TradingCoreError("not-found", `no session ${sessionId}`);
    return entry;
  }

  private assertLive(entry: Entry, nowMs: number): void {
    if (!isLive(entry.session, nowMs)) throw new TradingCoreError("failed-precondition", endedMessage(entry.session));
  }
}

/** Why a session takes no more heartbeats, registrations or closes. */
export function endedMessage(session: SessionRecord): string {
  if (session.status === SessionStatus.CLOSED) return `session ${session.sessionId} is closed`;
  const at = new Date(session.expiresAt).toISOString();
  return `session ${session.sessionId} lapsed at ${at} (no heartbeat within its ttl); its lapse action applies`;
}
