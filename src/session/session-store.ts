/**
 * The port the dead-man switch keeps its sessions behind: an in-memory
 * adapter for one process, a Redis one for a fleet. Every method is atomic;
 * refusals throw TradingCoreError (`not-found`, `failed-precondition`) with
 * a message naming the session.
 */
import type { SessionRecord, SessionSpec } from "../domain/session.js";

/** A lapsed session handed to one claimer. */
export interface LapseClaim {
  readonly session: SessionRecord;
  /** True the first time the lapse is claimed; false when a claim of it is retried (the earlier claimer did not settle it). */
  readonly first: boolean;
}

export interface SessionStore {
  /**
   * Opens a session (its lease starts at `nowMs`). Opening a live session
   * again with the same spec is a heartbeat (`created: false`); another
   * spec, or a session that lapsed or was closed, is `failed-precondition`.
   */
  open(spec: SessionSpec, nowMs: number): Promise<{ session: SessionRecord; created: boolean }>;
  /** Extends a live session's lease to `nowMs + ttl`; `not-found`, or `failed-precondition` once it lapsed or was closed. */
  heartbeat(sessionId: string, nowMs: number): Promise<SessionRecord>;
  /** Closes a live session (its trackers stay as they are); closing a closed one answers it again; a lapsed one is `failed-precondition`. */
  close(sessionId: string, nowMs: number): Promise<SessionRecord>;
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** Records `orderNo` under a live session; `not-found`, or `failed-precondition` when it is not live at `nowMs`. */
  attach(sessionId: string, orderNo: string, nowMs: number): Promise<void>;
  /** The order_nos registered under the session. */
  trackersOf(sessionId: string): Promise<string[]>;
  /**
   * Claims up to `limit` sessions whose lease passed by `nowMs` (marking them
   * LAPSED) or whose earlier claim was not settled within `retryAfterMs`.
   * Each claim goes to one caller only, across every process sharing the store;
   * it is handed out again `retryAfterMs` later unless settled.
   */
  claimLapsed(nowMs: number, retryAfterMs: number, limit: number): Promise<LapseClaim[]>;
  /** The lapse action of the session is done: it is claimed no more. */
  settle(sessionId: string): Promise<void>;
}
