/**
 * Owed exit retries in Redis, beside the trackers: one hash,
 * `{prefix}owed-exits`, order_no → retries used. A process that restarts on
 * the same Redis picks up the retries the one before it owed.
 */
import type { OwedExits } from "../exit/ports.js";
import { redisCommand } from "./redis-command.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

export class RedisOwedExits implements OwedExits {
  private readonly key: string;

  constructor(
    private readonly client: RedisTrackerClient,
    keyPrefix: string,
    private readonly commandTimeoutMs: number,
  ) {
    this.key = `${keyPrefix}owed-exits`;
  }

  async owe(orderNo: string): Promise<void> {
    await this.call("owe", () => this.client.hSetNX(this.key, orderNo, "0"));
  }

  async retried(orderNo: string, retries: number): Promise<void> {
    await this.call("record a retry", () => this.client.hSet(this.key, orderNo, String(retries)));
  }

  async settle(orderNo: string): Promise<void> {
    await this.call("settle", () => this.client.hDel(this.key, orderNo));
  }

  async all(): Promise<Map<string, number>> {
    const stored = await this.call("read", () => this.client.hGetAll(this.key));
    return new Map(Object.entries(stored).map(([orderNo, retries]) => [orderNo, Number(retries) || 0]));
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`owed exits ${what}`, this.commandTimeoutMs, operation);
  }
}
