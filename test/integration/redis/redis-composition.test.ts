/**
 * The composition root with and without Redis settings: which adapters it
 * picks, and that a minority of lock nodes down at start-up is no reason to
 * refuse to start.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, PriceSource, Segment, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { defaultConfig, type Config } from "../../../src/config.js";
import { Money } from "../../../src/domain/money.js";
import { startTradingCore } from "../../../src/main.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { RedisTrackerStore } from "../../../src/store/redis-tracker-store.js";
import { exitCommand, trackerSpec } from "../../support/exit-fixtures.js";
import { freeLoopbackPort, RedisServer, startRedisServers } from "../../support/redis-server.js";

const SLOW = 90_000;
const silent = pino({ level: "silent" });

function configWith(overrides: Partial<Config>): Config {
  return { ...defaultConfig(), port: 0, engine: "grpc-js", logLevel: "silent", shutdownGraceMs: 2_000, ...overrides };
}

describe("startTradingCore without any Redis setting", () => {
  it(
    "keeps the embedded store and lock",
    async () => {
      const core = await startTradingCore(configWith({}), { log: silent });
      try {
        expect(core.services.store).toBeInstanceOf(MemoryTrackerStore);
        expect((await core.services.ticks.resolver.resolve({ segment: Segment.NSE_EQ, securityId: "1" })).source).toBe(PriceSource.NONE);
      } finally {
        await core.stop();
      }
    },
    SLOW,
  );
});

describe("startTradingCore with REDIS_URL and REDIS_LOCK_URLS", () => {
  let redis: RedisServer;
  let lockNodes: RedisServer[];

  beforeAll(async () => {
    [redis, lockNodes] = await Promise.all([RedisServer.start(), startRedisServers(2)]);
  }, SLOW);

  afterAll(async () => {
    await Promise.all([redis, ...(lockNodes ?? [])].filter(Boolean).map((server) => server.destroy()));
  }, SLOW);

  it(
    "uses the Redis store and exits through Redlock with one of three lock nodes down",
    async () => {
      const deadNode = `redis://127.0.0.1:${await freeLoopbackPort()}`;
      const config = configWith({
        redisUrl: redis.url,
        redisLockUrls: [...lockNodes.map((node) => node.url), deadNode],
        redisKeyPrefix: "composition:",
        redisConnectTimeoutMs: 2_000,
      });
      const core = await startTradingCore(config, { log: silent });
      try {
        expect(core.services.store).toBeInstanceOf(RedisTrackerStore);
        await core.services.store.register(trackerSpec("COMPOSED-1"), Date.now());
        core.services.ticks.sink.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money("1501.5"), timeMs: Date.now() }]);
        const outcome = await core.services.engine.execute(exitCommand("COMPOSED-1"));
        expect(outcome.status).toBe(ExitStatus.EXITED);
        expect(outcome.exitPrice?.toFixed()).toBe("1501.5");
      } finally {
        await core.stop();
      }
      const reopened = await startTradingCore({ ...config, redisLockUrls: lockNodes.map((node) => node.url) }, { log: silent });
      try {
        expect((await reopened.services.store.get("COMPOSED-1"))?.exitPrice?.toFixed()).toBe("1501.5");
        expect((await reopened.services.ticks.resolver.resolve({ segment: Segment.NSE_EQ, securityId: "1333" })).source).toBe(
          PriceSource.REDIS,
        );
      } finally {
        await reopened.stop();
      }
    },
    SLOW,
  );
  it(
    "keeps the exits the reconciler owes in Redis: an order left AWAITING_FILL and then cancelled is retried by the next process",
    async () => {
      const config = configWith({
        redisUrl: redis.url,
        redisKeyPrefix: "owed:",
        redisConnectTimeoutMs: 2_000,
        reconcilerIntervalMs: 600_000,
        fillWaitMs: 100,
      });
      // The first process's market accepts the order and fills it only an hour later.
      const core = await startTradingCore(config, {
        log: silent,
        router: new PaperRouter({ faults: { lateFillRate: 1, lateMs: 3_600_000 } }),
      });
      let correlationId: string;
      try {
        await core.services.store.register(trackerSpec("OWED-1"), Date.now());
        core.services.ticks.sink.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: new Money("1501.5"), timeMs: Date.now() }]);
        const accepted = await core.services.engine.execute(exitCommand("OWED-1"));
        expect(accepted.status).toBe(ExitStatus.AWAITING_FILL);
        correlationId = accepted.correlationId!;
        // The broker cancels the order: the tracker goes back to ACTIVE and the reconciler owes its exit.
        const refused = await core.services.orderUpdates.apply({
          correlationId,
          orderId: accepted.tracker?.exitOrderId ?? "",
          status: BrokerOrderStatus.CANCELLED,
          updateTimeMs: Date.now(),
        });
        expect(refused.tracker?.status).toBe(TrackerStatus.ACTIVE);
      } finally {
        await core.stop();
      }
      const reopened = await startTradingCore(config, { log: silent });
      try {
        const tracker = await reopened.services.store.get("OWED-1");
        expect(tracker).toMatchObject({ status: TrackerStatus.EXITED, exitAttempt: 2 });
        expect(tracker!.exitCorrelationId).not.toBe(correlationId!);
      } finally {
        await reopened.stop();
      }
    },
    SLOW,
  );
});
