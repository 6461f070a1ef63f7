/**
 * Superseded exit attempts watched for duplicates, in Redis beside the
 * trackers: one hash, `{prefix}superseded-attempts`, correlation id → JSON of
 * the entry, so every process's reconciler (and a restarted one) keeps
 * looking them up.
 */
import type { SupersededAttempt, SupersededAttempts } from "../exit/ports.js";
import { redisCommand } from "./redis-command.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

export class RedisSupersededAttempts implements SupersededAttempts {
  private readonly key: string;

  constructor(
    private readonly client: RedisTrackerClient,
    keyPrefix: string,
    private readonly commandTimeoutMs: number,
  ) {
    this.key = `${keyPrefix}superseded-attempts`;
  }

  async watch(entry: SupersededAttempt): Promise<void> {
    await this.call("watch", () => this.client.hSet(this.key, entry.correlationId, JSON.stringify(entry)));
  }

  async forget(correlationId: string): Promise<void> {
    await this.call("forget", () => this.client.hDel(this.key, correlationId));
  }

  async all(): Promise<SupersededAttempt[]> {
    const stored = await this.call("read", () => this.client.hGetAll(this.key));
    return Object.values(stored).map((json) => JSON.parse(json) as SupersededAttempt);
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`superseded attempts ${what}`, this.commandTimeoutMs, operation);
  }
}
