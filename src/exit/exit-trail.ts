/**
 * The audit trail port: every exit event of every process, appended once, in
 * one order the whole fleet shares (see trail-sequence.ts). The embedded
 * default keeps it in memory (one process, bounded); with Redis it is a
 * stream every process appends to and follows.
 *
 * Invariants every adapter keeps (test/unit/trail/exit-trail-contract.test.ts):
 * - `publish` never blocks and never throws: an exit never waits for its
 *   events to be appended.
 * - The events one process publishes are appended in publish order, each
 *   once, even when an append is retried after a lost reply.
 * - `read` answers events oldest first, by sequence; `follow` delivers every
 *   appended event, of every process, once, in sequence order.
 * - Retention drops the oldest events only, and `trimmedThrough` says up to
 *   which sequence it has, so a reader can tell a gap from a quiet trail.
 */
import type { ExitEventRecord, ExitEventSink } from "./ports.js";

/** An exit event with its place in the trail. */
export interface SequencedExitEvent extends ExitEventRecord {
  /** The fleet-wide sequence, 1, 2, 3, … (trail-sequence.ts). */
  readonly sequence: bigint;
  /** When the trail appended it, epoch ms; never less than the event before it. */
  readonly appendedMs: number;
  /** The process that recorded it (host, pid, start time); "" when not known. */
  readonly process: string;
}

/** A part of the trail: events with a sequence above `after` and below `before`. */
export interface TrailRange {
  readonly after?: bigint;
  readonly before?: bigint;
}

export interface TrailRetention {
  /** Most events kept (Redis: at least this many, trimmed a stream node at a time), >= 1. */
  readonly maxEvents: number;
  /** Events older than this are dropped, ms; 0: no bound by age. */
  readonly maxAgeMs: number;
}

export interface ExitTrail extends ExitEventSink {
  /** Queues the event to be appended; never blocks or throws. */
  publish(event: ExitEventRecord): void;
  /** At most `limit` events of `range`, oldest first. */
  read(range: TrailRange, limit: number): Promise<SequencedExitEvent[]>;
  /** The largest sequence retention has dropped; 0n when it has dropped none. */
  trimmedThrough(): Promise<bigint>;
  /**
   * The last sequence appended before `ms` (epoch), so that every later one
   * was appended at or after it; 0n before the first. Undefined when
   * retention has dropped events and the oldest kept was appended at or after
   * `ms`: what was dropped may have been too.
   */
  sequenceBefore(ms: number): Promise<bigint | undefined>;
  /**
   * Delivers every event appended from now on, of every process, in sequence
   * order, to one follower, except while `wanted` answers false (nobody
   * watches: an adapter may then skip decoding what it reads). Resolves once
   * following: what is appended after that is delivered.
   */
  follow(deliver: (event: SequencedExitEvent) => void, wanted?: () => boolean): Promise<void>;
  /** True once every event published so far is appended; false when `graceMs` passed first. */
  flush(graceMs: number): Promise<boolean>;
  /** Appends what is queued (waiting up to `graceMs`), then stops following. */
  close(graceMs: number): Promise<void>;
}
