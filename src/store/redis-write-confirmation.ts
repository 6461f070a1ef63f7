/**
 * WAIT-confirmed writes: a write barrier (INCR of `{prefix}replication-barrier`)
 * followed by `WAIT replicas timeoutMs`, pipelined on the store's own
 * connection. The barrier is executed after every write whose reply the
 * caller has seen, and a replica applies the replication stream in order, so
 * a replica that acknowledged the barrier has those writes too, whichever
 * connection or process made them. It goes on the store's connection, not a
 * second one, because a second connection (a second Sentinel client, or a
 * URL whose address moves) could reach another server during a failover and
 * confirm there what was written elsewhere. The price: WAIT blocks that
 * connection, so store commands sent meanwhile wait for it, for one replica
 * round trip while the replicas are up, up to `timeoutMs` while they are not.
 *
 * Invariants:
 * - `replicas` 0 sends nothing and confirms at once (a single node).
 * - One barrier in flight at a time; callers arriving meanwhile share the
 *   next one (a barrier already sent may predate their write).
 * - Never throws: a Redis failure or a timeout is `confirmed: false`.
 */
import type { ReplicaConfirmation, WriteConfirmation } from "../exit/ports.js";
import { redisCommand } from "./redis-command.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

export interface RedisWriteConfirmationSettings {
  readonly keyPrefix: string;
  /** Replicas that must acknowledge; 0 confirms everything at once. */
  readonly replicas: number;
  /** WAIT's own timeout, ms. */
  readonly timeoutMs: number;
  /** Added to `timeoutMs` for the round trip itself, ms. */
  readonly commandTimeoutMs: number;
}

const CONFIRMED: ReplicaConfirmation = { confirmed: true };

export class RedisWriteConfirmation implements WriteConfirmation {
  private current: Promise<ReplicaConfirmation> | undefined;
  private queued: Promise<ReplicaConfirmation> | undefined;
  private readonly key: string;

  constructor(
    private readonly client: Pick<RedisTrackerClient, "multi">,
    private readonly settings: RedisWriteConfirmationSettings,
  ) {
    this.key = `${settings.keyPrefix}replication-barrier`;
  }

  confirm(): Promise<ReplicaConfirmation> {
    if (this.settings.replicas === 0) return Promise.resolve(CONFIRMED);
    if (!this.current) return this.start();
    this.queued ??= this.current.then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<ReplicaConfirmation> {
    const running = this.barrier().finally(() => {
      if (this.current === running) this.current = undefined;
    });
    this.current = running;
    return running;
  }

  private async barrier(): Promise<ReplicaConfirmation> {
    const { replicas, timeoutMs, commandTimeoutMs } = this.settings;
    try {
      const replies = await redisCommand("replica confirmation", timeoutMs + commandTimeoutMs, () =>
        this.client.multi().incr(this.key).wait(replicas, timeoutMs).execAsPipeline(),
      );
      const acknowledged = Number(replies[1]);
      if (acknowledged >= replicas) return CONFIRMED;
      return {
        confirmed: false,
        message: `${acknowledged} of ${replicas} replicas confirmed the write within ${timeoutMs} ms`,
      };
    } catch (error) {
      return {
        confirmed: false,
        message: `the write could not be confirmed by ${replicas} replicas (${error instanceof Error ? error.message : String(error)})`,
      };
    }
  }
}
