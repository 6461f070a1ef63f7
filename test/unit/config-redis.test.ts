import { describe, expect, it } from "vitest";
import { defaultConfig, loadConfig } from "../../src/config.js";
import { startTradingCore } from "../../src/main.js";
import { RedisStartupError, usesRedis } from "../../src/redis-adapters.js";
import { startupSummary } from "../../src/startup-summary.js";
import { disabledTelemetry } from "../../src/telemetry/telemetry.js";
import { freeLoopbackPort } from "../support/redis-server.js";
import { pino } from "pino";

describe("the Redis settings", () => {
  it("leave the embedded default in place when none is given", () => {
    const config = loadConfig([], {});
    expect(config.redisUrl).toBe("");
    expect(config.redisLockUrls).toEqual([]);
    expect(usesRedis(config)).toBe(false);
  });

  it("read REDIS_URL and REDIS_LOCK_URLS when the TRADINGCORE_ variables are unset", () => {
    const config = loadConfig([], {
      REDIS_URL: "redis://127.0.0.1:6390",
      REDIS_LOCK_URLS: "redis://127.0.0.1:7001, redis://127.0.0.1:7002,redis://127.0.0.1:7003",
    });
    expect(config.redisUrl).toBe("redis://127.0.0.1:6390");
    expect(config.redisLockUrls).toEqual(["redis://127.0.0.1:7001", "redis://127.0.0.1:7002", "redis://127.0.0.1:7003"]);
    expect(usesRedis(config)).toBe(true);
  });

  it("prefer TRADINGCORE_REDIS_URL over REDIS_URL, and a flag over both", () => {
    const env = { REDIS_URL: "redis://a:1", TRADINGCORE_REDIS_URL: "redis://b:2" };
    expect(loadConfig([], env).redisUrl).toBe("redis://b:2");
    expect(loadConfig(["--redis-url", "redis://c:3"], env).redisUrl).toBe("redis://c:3");
  });

  it("refuse a URL that is not redis:// or rediss://, naming the variable", () => {
    expect(() => loadConfig([], { REDIS_URL: "http://127.0.0.1:6379" })).toThrow(/^REDIS_URL: .*not a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadConfig([], { TRADINGCORE_REDIS_URL: "not a url" })).toThrow(/^TRADINGCORE_REDIS_URL: "not a url" is not a URL/);
  });

  it("refuse a bad lock node URL, naming the variable and which URL", () => {
    expect(() => loadConfig([], { REDIS_LOCK_URLS: "redis://127.0.0.1:7001,tcp://127.0.0.1:7002" })).toThrow(/^REDIS_LOCK_URLS: URL 2: /);
  });

  it("refuse a lock node timeout that is not well below the lock TTL", () => {
    expect(() => loadConfig(["--lock-node-timeout-ms", "400", "--lock-ttl-ms", "1000"], { REDIS_URL: "redis://127.0.0.1:6379" })).toThrow(
      /TRADINGCORE_LOCK_NODE_TIMEOUT_MS \(400\) must be below a third of TRADINGCORE_LOCK_TTL_MS \(1000\)/,
    );
  });
});

describe("startTradingCore when REDIS_URL names a Redis that does not answer", () => {
  it("refuses to start with an error naming the setting", async () => {
    const port = await freeLoopbackPort();
    const config = {
      ...defaultConfig(),
      port: 0,
      engine: "grpc-js" as const,
      redisUrl: `redis://127.0.0.1:${port}`,
      redisConnectTimeoutMs: 300,
    };
    const started = startTradingCore(config, { log: pino({ level: "silent" }) });
    await expect(started).rejects.toBeInstanceOf(RedisStartupError);
    await expect(started).rejects.toThrow(/REDIS_URL: no connection to redis:\/\/127\.0\.0\.1:\d+\/? within 300 ms/);
  }, 30_000);
});

describe("startTradingCore when TRADINGCORE_REDIS_SENTINELS names Sentinels that do not answer", () => {
  it("refuses to start with an error naming the setting and the master, without the credentials", async () => {
    const [sentinelPort, lockPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    const config = {
      ...defaultConfig(),
      port: 0,
      engine: "grpc-js" as const,
      redisSentinels: [`redis://watcher:sentinel-secret@127.0.0.1:${sentinelPort}`],
      redisSentinelMaster: "tc-store",
      redisLockUrls: [`redis://127.0.0.1:${lockPort}`],
      redisConnectTimeoutMs: 300,
    };
    const started = startTradingCore(config, { log: pino({ level: "silent" }) });
    await expect(started).rejects.toBeInstanceOf(RedisStartupError);
    await expect(started).rejects.toThrow(
      /^TRADINGCORE_REDIS_SENTINELS: no connection to sentinel master tc-store via redis:\/\/127\.0\.0\.1:\d+\/? within 300 ms/,
    );
    await expect(started).rejects.not.toThrow(/sentinel-secret/);
  }, 30_000);
});

describe("the start-up summary of a store behind Sentinel", () => {
  it("names the master and the Sentinels without their credentials, and the replicas it confirms with", () => {
    const config = loadConfig([], {
      TRADINGCORE_REDIS_SENTINELS: "redis://watcher:sentinel-secret@10.0.0.1:26379,redis://watcher:sentinel-secret@10.0.0.2:26379",
      TRADINGCORE_REDIS_SENTINEL_MASTER: "tc-store",
      TRADINGCORE_REDIS_LOCK_URLS: "redis://10.0.0.1:6380",
      TRADINGCORE_REDIS_CONFIRM_REPLICAS: "1",
    });
    expect(usesRedis(config)).toBe(true);
    const chosen = {
      storeOverridden: false,
      lockOverridden: false,
      trailOverridden: false,
      router: "configured" as const,
      lockQuorum: 1,
      redisTicks: true,
    };
    const summary = startupSummary(config, chosen, disabledTelemetry());
    expect(summary.store).toBe(
      "redis sentinel master tc-store via redis://10.0.0.1:26379,redis://10.0.0.2:26379 prefix tc: confirmed by 1 replicas",
    );
    expect(summary.router).toBe("paper (order book in redis)");
    expect(JSON.stringify(summary)).not.toContain("sentinel-secret");
  });
});
