/**
 * Follows the trail's stream with a blocking XREAD and delivers every entry,
 * of every process, once, in stream order. It starts after the newest entry
 * there is when it starts, and after a lost connection it reads on from the
 * last entry it delivered, so a reconnect leaves no gap.
 *
 * With a replica confirmation it delivers an entry only once that many
 * replicas hold it (trail-replica-confirmation.ts): after a failover the
 * promoted replica has every entry delivered, under the same sequence, and
 * the follower reads on there from its last one. Entries the dead master had
 * not replicated were never delivered; their processes append them again.
 */
import type { SequencedExitEvent } from "../exit/exit-trail.js";
import type { Clock, ExitLog } from "../exit/ports.js";
import { streamIdSequence } from "../exit/trail-sequence.js";
import type { RedisTrailFollowerClient } from "./redis-trail-client.js";
import { decodeEntry } from "./trail-entry-codec.js";
import { type TrailReplicaConfirmation, withReplicaConfirmation } from "./trail-replica-confirmation.js";

const BLOCK_MS = 1_000;
const READ_COUNT = 512;
const MAX_BACKOFF_MS = 2_000;

type StreamEntry = [id: string, fields: string[]];

export class RedisTrailFollower {
  private stopped = false;
  private running: Promise<void> | undefined;
  private following: Promise<void> | undefined;
  private lastLogged = 0;

  constructor(
    private readonly client: RedisTrailFollowerClient,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly log: ExitLog,
    private readonly confirmation?: TrailReplicaConfirmation,
  ) {}

  /** Resolves once the follower knows where the stream ends: every entry appended after that is delivered. */
  start(deliver: (event: SequencedExitEvent) => void, wanted: () => boolean = () => true): Promise<void> {
    if (!this.following) {
      let following = () => {};
      this.following = new Promise<void>((resolve) => (following = resolve));
      this.running = this.run((id, fields) => {
        // Nobody to deliver to: the entry is not decoded (a watcher that starts later replays it from the trail).
        if (wanted()) this.deliverEntry(id, fields, deliver);
      }, following).finally(following);
    }
    return this.following;
  }

  /** Stops after the read in progress (the connection is closed to end it). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.client.isOpen) this.client.destroy();
    await this.running;
  }

  private async run(onEntry: (id: string, fields: string[]) => void, following: () => void): Promise<void> {
    let last: string | undefined;
    let backoffMs = 50;
    while (!this.stopped) {
      try {
        if (last === undefined) {
          last = await this.newestId();
          following();
        }
        const reply = await this.read(["XREAD", "COUNT", String(READ_COUNT), "BLOCK", String(BLOCK_MS), "STREAMS", this.key, last]);
        for (const entries of streamsOf(reply)) {
          for (const [id, fields] of entries) {
            last = id;
            onEntry(id, fields);
          }
        }
        backoffMs = 50;
      } catch (error) {
        if (this.stopped) break;
        this.warn(error);
        await this.clock.sleep(backoffMs);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
    }
  }

  private async newestId(): Promise<string> {
    const newest = (await this.read(["XREVRANGE", this.key, "+", "-", "COUNT", "1"])) as StreamEntry[];
    return newest[0]?.[0] ?? "0-0";
  }

  /** One read; with a confirmation, answered only once the replicas hold what it read. */
  private read(command: string[]): Promise<unknown> {
    if (!this.confirmation) return this.client.sendCommand(command);
    return withReplicaConfirmation(this.client.multi().sendCommand(command), this.confirmation, "exit trail follower read");
  }

  private deliverEntry(id: string, fields: string[], deliver: (event: SequencedExitEvent) => void): void {
    try {
      deliver(decodeEntry(streamIdSequence(id), fields));
    } catch (error) {
      this.log.error({ id, err: error }, "exit trail entry skipped: it is not an exit event");
    }
  }

  private warn(error: unknown): void {
    const now = this.clock.now();
    if (now - this.lastLogged < 5_000) return;
    this.lastLogged = now;
    this.log.warn({ err: error }, "exit trail follower cannot read the stream; retrying from its last entry");
  }
}

/** The entries of each stream of an XREAD reply: node-redis answers an object by stream name (a list of [name, entries] in older releases), null when none came. */
function streamsOf(reply: unknown): StreamEntry[][] {
  if (!reply) return [];
  if (Array.isArray(reply)) return (reply as Array<[string, StreamEntry[]]>).map(([, entries]) => entries);
  return Object.values(reply as Record<string, StreamEntry[]>);
}
