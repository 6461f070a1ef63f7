/**
 * Sessions in Redis, shared by every process of a fleet: whichever process
 * answers a heartbeat extends the one lease, and whichever process claims a
 * lapse first (an atomic script) applies its action; the others skip it.
 * Keys under the prefix: `session:{id}` (hash), `session-trackers:{id}`
 * (set of order_nos), `sessions:due` (sorted set; see redis-session-scripts.ts).
 * A closed session, or a lapsed one whose action is settled, expires after
 * `retentionMs` (both its keys); then it is not found, and its id may be
 * opened afresh.
 */
import { SessionLapseAction, SessionStatus } from "../../gen/tradingcore/v1/session_pb.js";
import type { ExitPlan, ExitPlanRules } from "../domain/exit-plan.js";
import type { SessionRecord, SessionSpec } from "../domain/session.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { LapseClaim, SessionStore } from "../session/session-store.js";
import { decodeExitPlan, encodeExitPlan } from "./exit-plan-json.js";
import { endedMessage } from "./memory-session-store.js";
import { redisCommand } from "./redis-command.js";
import { hashFromFlat } from "./redis-tracker-codec.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";
import { ATTACH_TRACKER, CLAIM_LAPSED, CLOSE_SESSION, HEARTBEAT, OPEN_SESSION, SETTLE_SESSION } from "./redis-session-scripts.js";

type SessionClient = Pick<RedisTrackerClient, "eval" | "hGetAll" | "sMembers">;

/** How long a session that is over stays readable by default: a week, ms. */
export const DEFAULT_SESSION_RETENTION_MS = 7 * 24 * 3_600_000;

export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly client: SessionClient,
    private readonly keyPrefix: string,
    private readonly commandTimeoutMs: number,
    private readonly retentionMs: number = DEFAULT_SESSION_RETENTION_MS,
  ) {}

  async open(spec: SessionSpec, nowMs: number): Promise<{ session: SessionRecord; created: boolean }> {
    const reply = await this.script(
      "open",
      OPEN_SESSION,
      [this.hashKey(spec.sessionId), this.dueKey()],
      [
        spec.sessionId,
        String(spec.ttlMs),
        SessionLapseAction[spec.lapseAction],
        String(nowMs),
        spec.fallbackPlan ? encodeExitPlan({ ...spec.fallbackPlan, version: 0 }) : "",
      ],
    );
    if (reply[0] === "different") {
      throw new TradingCoreError(
        "failed-precondition",
        `session ${spec.sessionId} is already open with another ttl, lapse action or fallback plan`,
      );
    }
    return { session: this.answer(spec.sessionId, reply), created: reply[0] === "created" };
  }

  async heartbeat(sessionId: string, nowMs: number): Promise<SessionRecord> {
    const reply = await this.script("heartbeat", HEARTBEAT, [this.hashKey(sessionId), this.dueKey()], [sessionId, String(nowMs)]);
    return this.answer(sessionId, reply);
  }

  async close(sessionId: string, nowMs: number): Promise<SessionRecord> {
    const reply = await this.script(
      "close",
      CLOSE_SESSION,
      [this.hashKey(sessionId), this.dueKey(), this.trackersKey(sessionId)],
      [sessionId, String(nowMs), String(this.retentionMs)],
    );
    return this.answer(sessionId, reply);
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const hash = await this.call("get", () => this.client.hGetAll(this.hashKey(sessionId)));
    return Object.keys(hash).length === 0 ? undefined : decodeSession(hash);
  }

  async attach(sessionId: string, orderNo: string, nowMs: number): Promise<void> {
    const reply = await this.script(
      "attach",
      ATTACH_TRACKER,
      [this.hashKey(sessionId), this.trackersKey(sessionId)],
      [orderNo, String(nowMs)],
    );
    if (reply[0] !== "ok") this.answer(sessionId, reply);
  }

  async trackersOf(sessionId: string): Promise<string[]> {
    return (await this.call("trackers", () => this.client.sMembers(this.trackersKey(sessionId)))).sort();
  }

  async claimLapsed(nowMs: number, retryAfterMs: number, limit: number): Promise<LapseClaim[]> {
    const reply = await this.script(
      "claim lapsed",
      CLAIM_LAPSED,
      [this.dueKey()],
      [String(nowMs), String(retryAfterMs), String(limit), `${this.keyPrefix}session:`],
    );
    const claims: LapseClaim[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const session = await this.get(reply[i]!);
      // Claimed, so LAPSED and not settled: its hash has no expiry yet.
      if (session) claims.push({ session, first: reply[i + 1] === "1" });
    }
    return claims;
  }

  async settle(sessionId: string): Promise<void> {
    await this.script(
      "settle",
      SETTLE_SESSION,
      [this.hashKey(sessionId), this.dueKey(), this.trackersKey(sessionId)],
      [sessionId, String(this.retentionMs)],
    );
  }

  /** The session in a script's reply, or the refusal it stands for. */
  private answer(sessionId: string, reply: string[]): SessionRecord {
    if (reply[0] === "missing") throw new TradingCoreError("not-found", `no session ${sessionId}`);
    const session = decodeSession(hashFromFlat(reply.slice(1)));
    if (reply[0] === "ended") throw new TradingCoreError("failed-precondition", endedMessage(session));
    return session;
  }

  private async script(what: string, script: string, keys: string[], args: string[]): Promise<string[]> {
    return (await this.call(what, () => this.client.eval(script, { keys, arguments: args }))) as string[];
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`session store ${what}`, this.commandTimeoutMs, operation);
  }

  private hashKey(sessionId: string): string {
    return `${this.keyPrefix}session:${sessionId}`;
  }

  private trackersKey(sessionId: string): string {
    return `${this.keyPrefix}session-trackers:${sessionId}`;
  }

  private dueKey(): string {
    return `${this.keyPrefix}sessions:due`;
  }
}

function decodeSession(hash: Readonly<Record<string, string>>): SessionRecord {
  const status = SessionStatus[hash.status as keyof typeof SessionStatus];
  const lapseAction = SessionLapseAction[hash.lapseAction as keyof typeof SessionLapseAction];
  if (typeof status !== "number" || typeof lapseAction !== "number" || !hash.sessionId) {
    throw new TradingCoreError("internal", `stored session ${hash.sessionId ?? "?"} is not one this store wrote`);
  }
  return {
    sessionId: hash.sessionId,
    ttlMs: Number(hash.ttlMs),
    lapseAction,
    status,
    expiresAt: Number(hash.expiresAt),
    openedAt: Number(hash.openedAt),
    lastHeartbeatAt: Number(hash.lastHeartbeatAt),
    ...(hash.endedAt === undefined ? {} : { endedAt: Number(hash.endedAt) }),
    ...(hash.fallbackPlan === undefined ? {} : { fallbackPlan: rulesOf(decodeExitPlan(hash.fallbackPlan)) }),
  };
}

function rulesOf(plan: ExitPlan): ExitPlanRules {
  const { version: _version, ...rules } = plan;
  return rules;
}
