/** A RedisTrackerStore per test, each in its own key namespace on one shared redis-server. */
import { afterAll, beforeAll } from "vitest";
import { randomUUID } from "node:crypto";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../src/store/redis-tracker-client.js";
import { RedisTrackerStore } from "../../src/store/redis-tracker-store.js";
import { RedisServer, type RedisServerOptions } from "./redis-server.js";

export class RedisStoreHarness {
  private readonly clients: RedisTrackerClient[] = [];

  private constructor(readonly server: RedisServer) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisStoreHarness> {
    return new RedisStoreHarness(await RedisServer.start(options));
  }

  /** A connected client of its own, as another process would have. */
  async client(): Promise<RedisTrackerClient> {
    const client = createRedisTrackerClient(this.server.url);
    await client.connect();
    this.clients.push(client);
    return client;
  }

  /** A store in a fresh namespace, or in `keyPrefix` to share one with another store. */
  async store(keyPrefix = `test:${randomUUID()}:`): Promise<RedisTrackerStore> {
    return new RedisTrackerStore(await this.client(), { keyPrefix });
  }

  async destroy(): Promise<void> {
    await Promise.all(this.clients.map((client) => (client.isOpen ? client.destroy() : undefined)));
    await this.server.destroy();
  }
}

/**
 * One redis-server for the calling test file: started before its tests and
 * stopped after them. Answers the harness, for use inside tests.
 */
export function redisStoreHarnessForFile(timeoutMs = 60_000): () => RedisStoreHarness {
  let harness: RedisStoreHarness | undefined;
  beforeAll(async () => {
    harness = await RedisStoreHarness.start();
  }, timeoutMs);
  afterAll(async () => {
    await harness?.destroy();
  }, timeoutMs);
  return () => {
    if (!harness) throw new Error("the Redis harness is not started yet: call it inside a test");
    return harness;
  };
}
