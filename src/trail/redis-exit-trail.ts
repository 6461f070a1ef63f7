/**
 * The fleet's audit trail on a Redis stream, `{prefix}exit-trail`, which
 * every process appends to and follows.
 *
 * - `publish` only queues: a batch is appended a millisecond later, by one
 *   script call (redis-trail-scripts.ts), so an exit's answer never waits for
 *   Redis and the events of one exit share a round trip.
 * - A failed append is retried, in order, with a capped backoff; the script
 *   skips what an earlier try appended, so nothing is appended twice. At most
 *   `maxPending` events wait; past it, new events are dropped and logged as
 *   errors (the tracker store stays the record of each tracker's state).
 * - Retention: MAXLEN ~ on every append (at least the bound is kept, trimmed a
 *   stream node at a time); with an age bound, the events appended before this
 *   process's clock minus the bound, trimmed once the oldest is 1 % of the
 *   bound (at least 1 s) past it, and never the batch just appended. The
 *   oldest kept sequence tells what was dropped: sequences are consecutive.
 * - With a replica confirmation, a batch leaves the queue only once that
 *   many replicas hold it (trail-replica-confirmation.ts), and is sent again
 *   until they do: after a failover, what the promoted replica lacks is
 *   appended there, once (the process's last appended number travels with
 *   the entries, in the same script). A read answers only entries the
 *   replicas hold, so no sequence it answers can be issued again by a
 *   promoted replica.
 * - With `recorded`, once an append failed, every batch is checked against
 *   the tracker store before it is sent, until the queue empties
 *   (recorded-events.ts): an event whose tracker state the store no longer
 *   holds (lost with the master that died) is dropped, with an error log,
 *   rather than appended on the promoted replica beside the event of the
 *   write made there in its place.
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import type { ExitTrail, SequencedExitEvent, TrailRange, TrailRetention } from "../exit/exit-trail.js";
import type { Clock, ExitEventRecord, ExitLog } from "../exit/ports.js";
import type { StillRecorded } from "../exit/recorded-events.js";
import { sequenceStreamId, streamIdSequence } from "../exit/trail-sequence.js";
import { redisCommand } from "../store/redis-command.js";
import type { RedisTrailClient } from "./redis-trail-client.js";
import type { RedisTrailFollower } from "./redis-trail-follower.js";
import { type TrailReplicaConfirmation, withReplicaConfirmation } from "./trail-replica-confirmation.js";
import { decodeEntry, ENTRY_FIELDS, encodeEntryValues } from "./trail-entry-codec.js";

const BATCH = 256;
const APPEND_DELAY_MS = 1;
const MAX_BACKOFF_MS = 2_000;

export interface RedisExitTrailOptions {
  readonly keyPrefix: string;
  readonly retention: TrailRetention;
  /** This process's name in the trail (host, pid, start time). */
  readonly process: string;
  readonly commandTimeoutMs: number;
  /** Events that may wait to be appended; 100,000 when unset. */
  readonly maxPending?: number;
  /** Replicas that must hold a batch before it leaves the queue, and an entry before a read answers it; none when unset. */
  readonly confirmation?: TrailReplicaConfirmation;
  /** Checks the events queued when an append failed before they are sent again; all are sent when unset. */
  readonly recorded?: StillRecorded;
}

interface Pending {
  readonly number: number;
  readonly event: ExitEventRecord;
}

export class RedisExitTrail implements ExitTrail {
  readonly key: string;
  private readonly appendedKey: string;
  private readonly stateKey: string;
  private readonly pending: Pending[] = [];
  private published = 0;
  private appending: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private dropped = 0;
  private lastLogged = 0;
  /** An append failed and the queue has not emptied since: every batch is checked before it is sent (`recorded`). */
  private suspect = false;

  constructor(
    private readonly client: RedisTrailClient,
    private readonly follower: RedisTrailFollower,
    private readonly clock: Clock,
    private readonly log: ExitLog,
    private readonly options: RedisExitTrailOptions,
  ) {
    this.key = `${options.keyPrefix}exit-trail`;
    this.appendedKey = `${options.keyPrefix}exit-trail:appended`;
    this.stateKey = `${options.keyPrefix}exit-trail:state`;
  }

  publish(event: ExitEventRecord): void {
    if (this.pending.length >= (this.options.maxPending ?? 100_000)) {
      this.dropped++;
      this.complain(
        { orderNo: event.tracker.orderNo, dropped: this.dropped },
        "exit trail event dropped: too many events wait to be appended",
      );
      return;
    }
    this.pending.push({ number: ++this.published, event });
    if (this.scheduled || this.appending) return;
    this.scheduled = true;
    // A millisecond's wait gathers the events of an exit (intent, acceptance, fill) into one round
    // trip, sent after the exit has answered rather than between its own round trips.
    setTimeout(() => {
      this.scheduled = false;
      this.appending ??= this.appendAll().finally(() => (this.appending = undefined));
    }, APPEND_DELAY_MS);
  }

  async read(range: TrailRange, limit: number): Promise<SequencedExitEvent[]> {
    const start = range.after === undefined || range.after < 0n ? "-" : `(${sequenceStreamId(range.after)}`;
    const end = range.before === undefined ? "+" : `(${sequenceStreamId(range.before)}`;
    if (range.before !== undefined && range.before <= 0n) return [];
    const command = ["XRANGE", this.key, start, end, "COUNT", String(limit)];
    const { confirmation } = this.options;
    const entries = (await this.call("read", () =>
      confirmation
        ? withReplicaConfirmation(this.client.multi().sendCommand(command), confirmation, "exit trail read")
        : this.client.sendCommand(command),
    )) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => decodeEntry(streamIdSequence(id), fields));
  }

  async trimmedThrough(): Promise<bigint> {
    const [oldest] = (await this.call("read its oldest", () =>
      this.client.sendCommand(["XRANGE", this.key, "-", "+", "COUNT", "1"]),
    )) as Array<[string, string[]]>;
    return oldest ? streamIdSequence(oldest[0]) - 1n : 0n;
  }

  async sequenceBefore(ms: number): Promise<bigint | undefined> {
    const sequence = await this.call("seek a time", () => this.client.trailSequenceBefore(this.key, Math.floor(ms)));
    return sequence < 0 ? undefined : BigInt(sequence);
  }

  follow(deliver: (event: SequencedExitEvent) => void, wanted?: () => boolean): Promise<void> {
    return this.follower.start(deliver, wanted);
  }

  async flush(graceMs: number): Promise<boolean> {
    const deadline = this.clock.now() + graceMs;
    while (this.pending.length > 0 || this.appending || this.scheduled) {
      const left = deadline - this.clock.now();
      if (left <= 0) return false;
      // An append that keeps failing must not hold the flush past its grace.
      await Promise.race([
        this.appending ?? new Promise((resolve) => setTimeout(resolve, APPEND_DELAY_MS)),
        this.clock.sleep(Math.min(left, 100)),
      ]);
    }
    return true;
  }

  async close(graceMs: number): Promise<void> {
    const flushed = await this.flush(graceMs);
    this.closed = true;
    if (!flushed) this.log.error({ pending: this.pending.length }, "exit trail closed with events not appended");
    await this.follower.stop();
  }

  private async appendAll(): Promise<void> {
    let backoffMs = 50;
    while (this.pending.length > 0 && !this.closed) {
      try {
        const batch = await this.batchStillRecorded();
        if (batch.length === 0) continue;
        const keys = [this.key, this.appendedKey, this.stateKey] as const;
        const args = this.scriptArgs(batch);
        const { confirmation } = this.options;
        await this.call("append", () =>
          confirmation
            ? withReplicaConfirmation(this.client.multi().trailAppend(keys, args), confirmation, "exit trail append")
            : this.client.trailAppend(keys, args),
        );
        this.pending.splice(0, batch.length);
        if (this.pending.length === 0) this.suspect = false;
        backoffMs = 50;
      } catch (error) {
        this.suspect = true;
        this.complain({ pending: this.pending.length, err: error }, "exit trail append failed; retrying");
        await this.clock.sleep(backoffMs);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
    }
  }

  /**
   * The next batch; after a failed append, until the queue empties, checked first (`recorded`): its
   * events whose tracker state the store no longer holds leave the queue, logged. Throws when the
   * store cannot be read (the batch is tried again, checked again).
   */
  private async batchStillRecorded(): Promise<Pending[]> {
    const batch = this.pending.slice(0, BATCH);
    const { recorded } = this.options;
    if (!recorded || !this.suspect) return batch;
    const answers = await recorded(batch.map((pending) => pending.event));
    const lost = new Set(batch.filter((_, index) => !answers[index]));
    if (lost.size === 0) return batch;
    for (const { event } of lost) {
      this.log.error(
        { orderNo: event.tracker.orderNo, correlationId: event.correlationId, version: event.tracker.version },
        `exit trail event ${ExitEventKind[event.kind]} not appended: the tracker store no longer holds the state it records (lost with a failed master)`,
      );
    }
    const kept = batch.filter((pending) => !lost.has(pending));
    this.pending.splice(0, batch.length, ...kept);
    return kept;
  }

  private scriptArgs(batch: readonly Pending[]): string[] {
    const { maxEvents, maxAgeMs } = this.options.retention;
    const cutoff = maxAgeMs > 0 ? Math.max(1, this.clock.now() - maxAgeMs) : 0;
    const trimWhenBefore = cutoff - Math.max(1_000, Math.floor(maxAgeMs / 100));
    const args = [
      this.options.process,
      String(maxEvents),
      String(cutoff),
      String(trimWhenBefore),
      String(ENTRY_FIELDS.length),
      ...ENTRY_FIELDS,
    ];
    for (const { number, event } of batch) args.push(String(number), ...encodeEntryValues(event));
    return args;
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    // A confirmed command waits for its replicas too, up to WAIT's own timeout.
    const waitMs = this.options.confirmation?.timeoutMs ?? 0;
    return redisCommand(`exit trail ${what}`, this.options.commandTimeoutMs + waitMs, operation);
  }

  /** Errors of an outage repeat for every event: logged at most every 5 s. */
  private complain(fields: object, message: string): void {
    const now = this.clock.now();
    if (now - this.lastLogged < 5_000) return;
    this.lastLogged = now;
    this.log.error(fields, message);
  }
}
