/** N redis-server processes and Redlock clients on them, for lock tests. */
import { createClient } from "redis";
import { connectLockClient, createRedisLockClient, type RedisLockClient } from "../../src/lock/redis-lock-client.js";
import { Redlock } from "../../src/lock/redlock.js";
import type { RedlockSettings } from "../../src/lock/redlock-settings.js";
import { RedisServer, startRedisServers } from "./redis-server.js";

export class LockCluster {
  private readonly clients: RedisLockClient[] = [];

  private constructor(readonly servers: RedisServer[]) {}

  static async start(count: number): Promise<LockCluster> {
    return new LockCluster(await startRedisServers(count));
  }

  /** A Redlock with its own connections, as another process would have. */
  async redlock(settings: Partial<RedlockSettings> = {}): Promise<Redlock> {
    const clients = this.servers.map((server) => createRedisLockClient(server.url, { maxReconnectDelayMs: 100 }));
    await Promise.all(clients.map(connectLockClient));
    this.clients.push(...clients);
    return new Redlock(clients, { nodeTimeoutMs: 500, ...settings });
  }

  /** Runs `work` on a plain connection to node `index` (for setting up or inspecting state). */
  async raw<T>(index: number, work: (client: PlainClient) => Promise<T>): Promise<T> {
    const client = plainClient(this.servers[index]!.url);
    client.on("error", () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      client.destroy();
    }
  }

  /** Stops servers number `indexes`. */
  async stopNodes(...indexes: number[]): Promise<void> {
    await Promise.all(indexes.map((i) => this.servers[i]!.stop()));
  }

  async restartNodes(...indexes: number[]): Promise<void> {
    await Promise.all(indexes.map((i) => this.servers[i]!.restart()));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.clients.map((client) => (client.isOpen ? client.destroy() : undefined)));
    await Promise.all(this.servers.map((server) => server.destroy()));
  }
}

function plainClient(url: string) {
  return createClient({ url });
}

type PlainClient = ReturnType<typeof plainClient>;
