/**
 * The WriteConfirmation contract, run against every adapter: what the exit
 * engine may rely on before it sends an order or answers EXITED. Redis runs
 * on a real primary with one replica, stopped and started again by its pid.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WriteConfirmation } from "../../../src/exit/ports.js";
import { MemoryWriteConfirmation } from "../../../src/store/memory-write-confirmation.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { RedisWriteConfirmation } from "../../../src/store/redis-write-confirmation.js";
import { RedisServer } from "../../support/redis-server.js";
import { SentinelTopology } from "../../support/redis-sentinel-topology.js";

const SLOW = 60_000;

let primary: RedisServer | undefined;
let replica: RedisServer | undefined;
const clients: RedisTrackerClient[] = [];
beforeAll(async () => {
  primary = await RedisServer.start();
  replica = await RedisServer.start({ replicaOf: primary.port });
  await SentinelTopology.untilReplicaOnline(primary);
}, SLOW);
afterAll(async () => {
  await Promise.all(clients.map((client) => (client.isOpen ? client.destroy() : undefined)));
  await Promise.all([replica?.destroy(), primary?.destroy()]);
}, SLOW);

async function connected(): Promise<RedisTrackerClient> {
  const client = createRedisTrackerClient(primary!.url);
  await client.connect();
  clients.push(client);
  return client;
}

/**
 * WAIT's timeout: generous where the replica is up and must confirm (a busy machine may take a while
 * to replicate), short where it is stopped and the timeout is what the test waits for.
 */
const CONFIRMING_MS = 10_000;
const STOPPED_MS = 200;

const redisConfirmation = async (replicas: number, timeoutMs = CONFIRMING_MS) =>
  new RedisWriteConfirmation(await connected(), {
    keyPrefix: "confirm-contract:",
    replicas,
    timeoutMs,
    commandTimeoutMs: timeoutMs + 2_000,
  });

const adapters: Array<[string, () => Promise<WriteConfirmation>]> = [
  ["MemoryWriteConfirmation", async () => new MemoryWriteConfirmation()],
  ["RedisWriteConfirmation with one replica", () => redisConfirmation(1)],
  ["RedisWriteConfirmation with no replica to wait for", () => redisConfirmation(0)],
];

describe.each(adapters)("%s", (_name, make) => {
  it("confirms writes that reached the replicas", async () => {
    await expect((await make()).confirm()).resolves.toEqual({ confirmed: true });
  });

  it("answers every one of many confirmations asked at once", async () => {
    const confirmation = await make();
    const answers = await Promise.all(Array.from({ length: 20 }, () => confirmation.confirm()));
    expect(answers.every((answer) => answer.confirmed)).toBe(true);
  });
});

describe("RedisWriteConfirmation", () => {
  it(
    "sends one barrier for callers that arrive while one is in flight, and one more after it",
    async () => {
      const confirmation = await redisConfirmation(1);
      const inspector = createClient({ url: primary!.url });
      await inspector.connect();
      try {
        const before = waitCalls(await inspector.info("commandstats"));
        await Promise.all(Array.from({ length: 20 }, () => confirmation.confirm()));
        const after = waitCalls(await inspector.info("commandstats"));
        expect(after - before).toBeGreaterThanOrEqual(1);
        expect(after - before).toBeLessThanOrEqual(2);
      } finally {
        inspector.destroy();
      }
    },
    SLOW,
  );

  it(
    "says how many replicas confirmed when the replica is stopped, and never throws",
    async () => {
      const confirmation = await redisConfirmation(1, STOPPED_MS);
      await replica!.kill();
      try {
        expect(await confirmation.confirm()).toEqual({ confirmed: false, message: "0 of 1 replicas confirmed the write within 200 ms" });
      } finally {
        await replica!.restart();
        await SentinelTopology.untilReplicaOnline(primary!);
      }
      expect(await (await redisConfirmation(1)).confirm()).toEqual({ confirmed: true });
    },
    SLOW,
  );

  it(
    "answers unconfirmed, naming the failure, when the primary cannot be reached",
    async () => {
      const client = createRedisTrackerClient("redis://127.0.0.1:1", { connectTimeoutMs: 200 });
      const confirmation = new RedisWriteConfirmation(client, { keyPrefix: "x:", replicas: 1, timeoutMs: 100, commandTimeoutMs: 500 });
      const answer = await confirmation.confirm();
      expect(answer.confirmed).toBe(false);
      expect(answer.confirmed ? "" : answer.message).toMatch(/could not be confirmed by 1 replicas/);
    },
    SLOW,
  );
});

/** Calls of WAIT so far, from INFO commandstats. */
function waitCalls(info: string): number {
  return Number(/cmdstat_wait:calls=(\d+)/.exec(info)?.[1] ?? 0);
}
