/**
 * The exit engine on the Redis adapters: Redlock on three nodes, the Redis
 * tracker store with AOF. What a production deployment relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, Segment, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import { PausedReplyRouter } from "../../../src/router/paused-reply-router.js";
import { engineOn, exitCommand, ltpResolverWith, quietLog, stallEventLoop, trackerSpec } from "../../support/exit-fixtures.js";
import { LockCluster } from "../../support/redis-lock-nodes.js";
import { RedisStoreHarness } from "../../support/redis-store.js";
import { untilTrue } from "../../support/until.js";

const SLOW = 90_000;

describe("ExitEngine on Redlock and the Redis tracker store", () => {
  let locks: LockCluster;
  let redis: RedisStoreHarness;

  beforeAll(async () => {
    [locks, redis] = await Promise.all([LockCluster.start(3), RedisStoreHarness.start({ appendOnly: true })]);
  }, SLOW);

  afterAll(async () => {
    await Promise.all([locks?.destroy(), redis?.destroy()]);
  }, SLOW);

  describe("when a holder is paused past its TTL and another process exits the tracker", () => {
    it(
      "refuses the paused holder's late intent by its fencing token",
      async () => {
        const prefix = "fenced:";
        const pausedStore = await redis.store(prefix);
        const { tracker } = await pausedStore.register(trackerSpec("FENCED-1"), Date.now());
        const paused = await locks.redlock();
        const acquired = await paused.acquire("lock:exit:FENCED-1", 1_000);
        if (acquired.kind !== "acquired") throw new Error(acquired.kind);

        stallEventLoop(2_500);

        const router = new PaperRouter();
        const successor = engineOn({ store: await redis.store(prefix), lock: await locks.redlock(), router, ltp: pricedAt("1510.25") });
        expect((await successor.execute(exitCommand("FENCED-1"))).status).toBe(ExitStatus.EXITED);

        const late = { ...tracker, status: TrackerStatus.EXITING, fencingToken: acquired.lease.fencingToken };
        const refused = await pausedStore.compareAndSet(late, tracker.version);
        expect(refused.kind).toBe("fenced");
        expect((await pausedStore.get("FENCED-1"))?.status).toBe(TrackerStatus.EXITED);
        expect(router.ordersFor("FENCED-1")).toBe(1);
      },
      SLOW,
    );
  });

  describe("when an exit runs longer than the lock TTL", () => {
    it(
      "keeps the lock by extending it: a second process answers EXIT_IN_PROGRESS and one order is sent",
      async () => {
        const prefix = "slow-exit:";
        const store = await redis.store(prefix);
        await store.register(trackerSpec("SLOW-1"), Date.now());
        // The order is written at once (within its send deadline, the lease's first validity); its reply takes 6 s.
        const paper = new PaperRouter();
        const router = new PausedReplyRouter(paper, 6_000, quietLog);
        const settings = { lockTtlMs: 2_000, routerTimeoutMs: 30_000 };
        const slow = engineOn({ store, lock: await locks.redlock(), router, ltp: pricedAt("1500.05"), settings });
        const other = engineOn({
          store: await redis.store(prefix),
          lock: await locks.redlock(),
          router,
          ltp: pricedAt("1500.05"),
          settings,
        });

        const slowExit = slow.execute(exitCommand("SLOW-1"));
        await untilTrue(async () => (await store.get("SLOW-1"))?.status === TrackerStatus.EXITING, "the intent stored");
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        expect(await (await locks.redlock()).acquire("lock:exit:SLOW-1", 2_000)).toMatchObject({ kind: "busy" });
        expect((await other.execute(exitCommand("SLOW-1"))).status).toBe(ExitStatus.EXIT_IN_PROGRESS);

        expect((await slowExit).status).toBe(ExitStatus.EXITED);
        expect(paper.ordersFor("SLOW-1")).toBe(1);
      },
      SLOW,
    );
  });

  describe("when Redis drops its script cache or is unreachable", () => {
    it(
      "keeps registering and writing trackers after SCRIPT FLUSH",
      async () => {
        const store = await redis.store("flushed:");
        const { tracker } = await store.register(trackerSpec("FLUSHED-1"), Date.now());
        const raw = await redis.client();
        await raw.scriptFlush();
        expect((await store.compareAndSet({ ...tracker, status: TrackerStatus.EXITING, fencingToken: 1 }, 1)).kind).toBe("written");
        await raw.scriptFlush();
        expect((await store.register(trackerSpec("FLUSHED-2"), Date.now())).created).toBe(true);
      },
      SLOW,
    );

    it(
      "answers TradingCoreError unavailable, not a Redis error, while Redis is down",
      async () => {
        const store = await redis.store("down:");
        await redis.server.stop();
        try {
          await expect(store.get("DOWN-1")).rejects.toMatchObject({ name: "TradingCoreError", code: "unavailable" });
          await expect(store.register(trackerSpec("DOWN-1"), Date.now())).rejects.toMatchObject({
            name: "TradingCoreError",
            code: "unavailable",
          });
        } finally {
          await redis.server.restart();
        }
      },
      SLOW,
    );
  });

  describe("when Redis is killed and restarted with its append-only file", () => {
    it(
      "loses no acknowledged exit",
      async () => {
        const prefix = "durable:";
        const store = await redis.store(prefix);
        const router = new PaperRouter();
        const engine = engineOn({ store, lock: await locks.redlock(), router, ltp: pricedAt("1499.95") });
        const orderNos = Array.from({ length: 20 }, (_, i) => `DURABLE-${i}`);
        for (const orderNo of orderNos) await store.register(trackerSpec(orderNo), Date.now());
        const outcomes = await Promise.all(orderNos.map((orderNo) => engine.execute(exitCommand(orderNo))));
        expect(outcomes.map((outcome) => outcome.status)).toEqual(orderNos.map(() => ExitStatus.EXITED));

        await redis.server.kill();
        await redis.server.restart();

        const reader = await redis.store(prefix);
        for (const orderNo of orderNos) {
          const stored = await reader.get(orderNo);
          expect(stored?.status).toBe(TrackerStatus.EXITED);
          expect(stored?.exitPrice?.toFixed()).toBe("1499.95");
        }
      },
      SLOW,
    );
  });
});

function pricedAt(ltp: string) {
  const cache = new MemoryTickCache();
  cache.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money(ltp), timeMs: Date.now() }]);
  return ltpResolverWith(cache);
}
