/**
 * The Redis half of the composition root: when a Redis setting is present,
 * the tracker store, the shared tick cache, the paper order book, the owed
 * exit retries, the superseded attempts watched for duplicates, the broker's
 * order rate limits shared by every process, the protection states, the
 * sessions of the dead-man switch, the due times of time exits (REDIS_URL)
 * and the Redlock exit lock (REDIS_LOCK_URLS, else REDIS_URL) are built here
 * for main.ts. Without any Redis setting nothing here runs and the embedded
 * adapters stay.
 *
 * The store's Redis is one URL (REDIS_URL) or the master a set of Sentinels
 * names (TRADINGCORE_REDIS_SENTINELS), whose failover the clients follow.
 * The lock nodes are always named apart, by URL: Redlock's safety rests on
 * independent masters, and a lock held on a master that fails over to a
 * replica which never received it is held twice.
 *
 * Start-up waits for the tracker store's Redis (up to the connect timeout)
 * and fails with a message naming the setting; lock nodes are only waited
 * for up to the same bound, since a minority of them may be down.
 */
import type { Config } from "./config.js";
import type { ExitLog } from "./exit/ports.js";
import { connectLockClient, createRedisLockClient, type RedisLockClient } from "./lock/redis-lock-client.js";
import { describeEndpoint, type RedisEndpoint, redactedUrl } from "./redis-connection.js";
import { Redlock } from "./lock/redlock.js";
import type { OrderRateLimiter, RateWindow } from "./router/order-rate-limit.js";
import { RedisOrderRateLimiter } from "./router/redis-order-rate-limit.js";
import { RedisPaperOrderBook } from "./router/redis-paper-order-book.js";
import { RedisOwedExits } from "./store/redis-owed-exits.js";
import { RedisSessionStore } from "./store/redis-session-store.js";
import { RedisDueTimes } from "./store/redis-due-times.js";
import { RedisProtectionChangeLog } from "./store/redis-protection-change-log.js";
import { RedisProtectionStates } from "./store/redis-protection-states.js";
import { RedisSupersededAttempts } from "./store/redis-superseded-attempts.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "./store/redis-tracker-client.js";
import { RedisTrackerStore } from "./store/redis-tracker-store.js";
import { RedisWriteConfirmation } from "./store/redis-write-confirmation.js";
import { createRedisTickClient, type RedisTickClient } from "./ticks/redis-tick-client.js";
import { RedisTickCache } from "./ticks/redis-tick-cache.js";

export class RedisStartupError extends Error {
  override readonly name = "RedisStartupError";
}

export interface RedisAdapters {
  readonly store?: RedisTrackerStore;
  readonly ticks?: RedisTickCache;
  readonly orderBook?: RedisPaperOrderBook;
  readonly owedExits?: RedisOwedExits;
  readonly superseded?: RedisSupersededAttempts;
  readonly sessions?: RedisSessionStore;
  readonly dueTimes?: RedisDueTimes;
  readonly protection?: RedisProtectionStates;
  /** The log of the tracker changes that matter to protection, which the store's scripts append to. */
  readonly protectionChanges?: RedisProtectionChangeLog;
  readonly lock?: Redlock;
  /** WAIT-confirms the store's writes (TRADINGCORE_REDIS_CONFIRM_REPLICAS; 0 confirms at once). */
  readonly confirmation?: RedisWriteConfirmation;
  /** Order rate limits every process shares, per account key (REDIS_URL). */
  readonly rateLimiter?: (key: string, windows: readonly RateWindow[]) => OrderRateLimiter;
  /** Flushes the tick write-behind and closes every connection. */
  close(): Promise<void>;
}

/** True when the configuration names any Redis. */
export function usesRedis(config: Config): boolean {
  return config.redisUrl !== "" || config.redisSentinels.length > 0 || config.redisLockUrls.length > 0;
}

/** The store's Redis as the configuration names it, or undefined when it names none. */
export function storeEndpoint(config: Config): RedisEndpoint | undefined {
  if (config.redisSentinels.length > 0) {
    return {
      kind: "sentinel",
      sentinelUrls: config.redisSentinels,
      masterName: config.redisSentinelMaster,
      nodeUsername: config.redisSentinelNodeUsername,
      nodePassword: config.redisSentinelNodePassword,
      nodeTls: config.redisSentinelNodeTls,
    };
  }
  return config.redisUrl ? { kind: "url", url: config.redisUrl } : undefined;
}

export async function connectRedisAdapters(config: Config, log: ExitLog): Promise<RedisAdapters> {
  const clients: Array<RedisTrackerClient | RedisTickClient | RedisLockClient> = [];
  const closeAll = async (ticks?: RedisTickCache) => {
    await ticks?.flush().catch(() => undefined);
    await Promise.all(
      clients.map((client) =>
        client.isReady ? client.close().catch(() => client.destroy()) : client.isOpen ? client.destroy() : undefined,
      ),
    );
  };
  try {
    let shared: Pick<
      RedisAdapters,
      | "store"
      | "ticks"
      | "orderBook"
      | "owedExits"
      | "superseded"
      | "confirmation"
      | "rateLimiter"
      | "protection"
      | "protectionChanges"
      | "sessions"
      | "dueTimes"
    > = {};
    const endpoint = storeEndpoint(config);
    if (endpoint) {
      const storeClient = createRedisTrackerClient(endpoint, { log });
      const tickClient = createRedisTickClient(endpoint, { log });
      clients.push(storeClient, tickClient);
      const setting = endpoint.kind === "url" ? "TRADINGCORE_REDIS_URL / REDIS_URL" : "TRADINGCORE_REDIS_SENTINELS";
      await connectWithin(config.redisConnectTimeoutMs, describeEndpoint(endpoint), setting, [storeClient.connect(), tickClient.connect()]);
      shared = {
        store: new RedisTrackerStore(storeClient, {
          keyPrefix: config.redisKeyPrefix,
          commandTimeoutMs: config.redisCommandTimeoutMs,
          changeLogMaxLength: config.protectionChangeLogMax,
        }),
        ticks: new RedisTickCache(tickClient, { keyPrefix: config.redisKeyPrefix }, log),
        orderBook: new RedisPaperOrderBook(storeClient, config.redisKeyPrefix),
        owedExits: new RedisOwedExits(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        superseded: new RedisSupersededAttempts(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        ...(config.redisConfirmReplicas > 0
          ? {
              // On the store's own connection, so the barrier reaches the master its writes did (redis-write-confirmation.ts).
              confirmation: new RedisWriteConfirmation(storeClient, {
                keyPrefix: config.redisKeyPrefix,
                replicas: config.redisConfirmReplicas,
                timeoutMs: config.redisConfirmTimeoutMs,
                commandTimeoutMs: config.redisCommandTimeoutMs,
              }),
            }
          : {}),
        rateLimiter: (key, windows) => new RedisOrderRateLimiter(storeClient, key, windows),
        sessions: new RedisSessionStore(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs, config.sessionRetentionMs),
        dueTimes: new RedisDueTimes(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        protection: new RedisProtectionStates(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        protectionChanges: new RedisProtectionChangeLog(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
      };
    }
    const lockUrls = config.redisLockUrls.length > 0 ? config.redisLockUrls : [config.redisUrl];
    const lockClients = lockUrls.map((url) => createRedisLockClient(url, { log }));
    clients.push(...lockClients);
    const lock = new Redlock(
      lockClients,
      {
        nodeTimeoutMs: config.lockNodeTimeoutMs,
        attempts: config.lockAttempts,
        retryDelayMs: config.lockRetryDelayMs,
        retryJitterMs: config.lockRetryDelayMs * 2,
        keyPrefix: config.redisKeyPrefix,
      },
      log,
    );
    const ready = await waitForLockNodes(lockClients, config.redisConnectTimeoutMs);
    if (ready < lock.quorum) {
      log.warn(
        { ready, nodes: lockClients.length, quorum: lock.quorum, urls: lockUrls.map(redactedUrl) },
        "fewer lock nodes reachable than a quorum; exits answer LOCK_UNAVAILABLE until they are",
      );
    }
    return { ...shared, lock, close: () => closeAll(shared.ticks) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

export async function connectWithin(ms: number, where: string, setting: string, connections: Promise<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisStartupError(`${setting}: no connection to ${where} within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.all(connections), timeout]);
  } catch (error) {
    if (error instanceof RedisStartupError) throw error;
    throw new RedisStartupError(`${setting}: cannot connect to ${where}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts connecting every lock node; answers how many were ready within `ms` (the rest keep trying). */
async function waitForLockNodes(clients: readonly RedisLockClient[], ms: number): Promise<number> {
  const connecting = clients.map((client) => connectLockClient(client));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(connecting), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  return clients.filter((client) => client.isReady).length;
}
