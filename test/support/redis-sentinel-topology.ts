/**
 * A primary, a replica of it and three Sentinels watching them, all real
 * redis-server processes on loopback ports, stopped by their pids. Timings are
 * short so a failover takes seconds: a master unanswered for `downAfterMs` is
 * down, and two Sentinels agreeing is enough to promote the replica.
 */
import { createClient } from "redis";
import { RedisServer } from "./redis-server.js";

export const SENTINEL_MASTER = "tc-store";

export interface SentinelTopologyOptions {
  readonly downAfterMs?: number;
  readonly failoverTimeoutMs?: number;
}

export class SentinelTopology {
  private constructor(
    /** The master at start; after a failover, whatever the Sentinels made of it. */
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinels: readonly RedisServer[],
  ) {}

  static async start(options: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    const primary = await RedisServer.start();
    const started: RedisServer[] = [primary];
    try {
      const replica = await RedisServer.start({ replicaOf: primary.port });
      started.push(replica);
      const sentinel = {
        masterName: SENTINEL_MASTER,
        masterPort: primary.port,
        quorum: 2,
        downAfterMs: options.downAfterMs ?? 500,
        failoverTimeoutMs: options.failoverTimeoutMs ?? 2_000,
      };
      const sentinels: RedisServer[] = [];
      for (let i = 0; i < 3; i++) {
        const node = await RedisServer.start({ sentinel });
        started.push(node);
        sentinels.push(node);
      }
      const topology = new SentinelTopology(primary, replica, sentinels);
      await SentinelTopology.untilReplicaOnline(primary);
      await topology.untilSentinelsKnowEachOther();
      return topology;
    } catch (error) {
      await Promise.all(started.map((server) => server.destroy()));
      throw error;
    }
  }

  get sentinelUrls(): string[] {
    return this.sentinels.map((sentinel) => sentinel.url);
  }

  /** The port the Sentinels name as the master now (the first Sentinel's view). */
  async masterPort(): Promise<number> {
    const reply = await this.askSentinel(this.sentinels[0]!, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER]);
    return Number((reply as string[])[1]);
  }

  /** Resolves once every Sentinel names `port` as the master (bounded). */
  async untilMasterIs(port: number, timeoutMs = 30_000): Promise<void> {
    await until(`every Sentinel names ${port} the master`, timeoutMs, async () => {
      const views = await Promise.all(
        this.sentinels.map((sentinel) => this.askSentinel(sentinel, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER])),
      );
      return views.every((view) => Number((view as string[])[1]) === port);
    });
  }

  /** Resolves once `master` has an online replica (bounded). */
  static async untilReplicaOnline(master: RedisServer, timeoutMs = 30_000): Promise<void> {
    await until(`a replica of ${master.port} is online`, timeoutMs, async () => {
      const info = String(await ask(master.url, ["INFO", "replication"]));
      return /slave\d+:.*state=online/.test(info);
    });
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.sentinels, this.replica, this.primary].map((server) => server.destroy()));
  }

  /** Each Sentinel knows the two others and the replica: a failover can be agreed on. */
  private async untilSentinelsKnowEachOther(timeoutMs = 30_000): Promise<void> {
    await until("the Sentinels know each other and the replica", timeoutMs, async () => {
      for (const sentinel of this.sentinels) {
        const peers = (await this.askSentinel(sentinel, ["SENTINEL", "SENTINELS", SENTINEL_MASTER])) as unknown[];
        const replicas = (await this.askSentinel(sentinel, ["SENTINEL", "REPLICAS", SENTINEL_MASTER])) as unknown[];
        if (peers.length < 2 || replicas.length < 1) return false;
      }
      return true;
    });
  }

  private askSentinel(sentinel: RedisServer, command: string[]): Promise<unknown> {
    return ask(sentinel.url, command);
  }
}

/** One command on a short-lived connection (RESP2: plain arrays). */
async function ask(url: string, command: string[]): Promise<unknown> {
  const client = createClient({ url, RESP: 2, socket: { reconnectStrategy: false, connectTimeout: 1_000 } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await client.sendCommand(command);
  } finally {
    if (client.isOpen) client.destroy();
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}${last ? ` (${String(last)})` : ""}`);
}
