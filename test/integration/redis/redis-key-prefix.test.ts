/**
 * One Redis may serve several deployments (or other programs): every key
 * tradingcore writes lives under its configured prefix, so a deployment can
 * be listed, migrated or deleted by that prefix alone.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { publishTick, registerTracker } from "../../support/fixtures.js";
import { RedisServer } from "../../support/redis-server.js";
import { startTestServer } from "../../support/test-server.js";

const SLOW = 90_000;
const PREFIX = "desk7:";

async function allKeys(url: string): Promise<string[]> {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: "*", COUNT: 1000 })) keys.push(...batch);
    return keys.sort();
  } finally {
    client.destroy();
  }
}

describe("a server on Redis with a key prefix, after a tick and an exit through the paper router", () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  }, SLOW);

  afterAll(async () => {
    await redis?.destroy();
  }, SLOW);

  it(
    "has written every key under the prefix: tracker, indexes, tick hash, lock fence counter, paper order book",
    async () => {
      const server = await startTestServer({
        engine: "grpc-js",
        config: { redisUrl: redis.url, redisKeyPrefix: PREFIX, redisConnectTimeoutMs: 2_000, router: "paper" },
        // No router override: the configured paper router with its Redis order book.
        adapters: { router: undefined },
      });
      try {
        const orderNo = await registerTracker(server);
        await publishTick(server, "101.25");
        const { result } = await server.exits.executeExit({ orderNo, reason: "key prefix", reasonCode: ExitReasonCode.MANUAL });
        expect(result?.status).toBe(ExitStatus.EXITED);
      } finally {
        // Stopping flushes the tick write-behind, so the tick hash is in Redis when the keys are listed.
        await server.close();
      }
      const keys = await allKeys(redis.url);
      expect(keys.filter((key) => !key.startsWith(PREFIX))).toEqual([]);
      // The keys each part writes are there, so an empty list above means "under the prefix", not "not written".
      expect(keys.some((key) => key.startsWith(`${PREFIX}lock:exit:`) && key.endsWith(":fence"))).toBe(true);
      expect(keys.some((key) => key.startsWith(`${PREFIX}tick:`))).toBe(true);
      expect(keys.some((key) => key.startsWith(`${PREFIX}paper:`))).toBe(true);
    },
    SLOW,
  );
});
