/**
 * The Redis half of the composition root: when a Redis setting is present,
 * the tracker store, the shared tick cache, the paper order book, the owed
 * exit retries, the superseded attempts watched for duplicates, the
 * protection states, the sessions of the dead-man switch, the due times of
 * time exits (REDIS_URL)
 * and the Redlock exit lock (REDIS_LOCK_URLS, else REDIS_URL) are built here
 * for main.ts. Without any Redis setting nothing here runs and the embedded
 * adapters stay.
 *
 * Start-up waits for the tracker store's Redis (up to the connect timeout)
 * and fails with a message naming the setting; lock nodes are only waited
 * for up to the same bound, since a minority of them may be down.
 */
import type { Config } from "./config.js";
import type { ExitLog } from "./exit/ports.js";
import { connectLockClient, createRedisLockClient, type RedisLockClient } from "./lock/redis-lock-client.js";
import { redactedUrl } from "./redis-connection.js";
import { Redlock } from "./lock/redlock.js";
import { RedisPaperOrderBook } from "./router/redis-paper-order-book.js";
import { RedisOwedExits } from "./store/redis-owed-exits.js";
import { RedisSessionStore } from "./store/redis-session-store.js";
import { RedisDueTimes } from "./store/redis-due-times.js";
import { RedisProtectionStates } from "./store/redis-protection-states.js";
import { RedisSupersededAttempts } from "./store/redis-superseded-attempts.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "./store/redis-tracker-client.js";
import { RedisTrackerStore } from "./store/redis-tracker-store.js";
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
  readonly lock?: Redlock;
  /** Flushes the tick write-behind and closes every connection. */
  close(): Promise<void>;
}

/** True when the configuration names any Redis. */
export function usesRedis(config: Config): boolean {
  return config.redisUrl !== "" || config.redisLockUrls.length > 0;
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
    let shared: Pick<RedisAdapters, "store" | "ticks" | "orderBook" | "owedExits" | "superseded" | "protection" | "sessions" | "dueTimes"> =
      {};
    if (config.redisUrl) {
      const storeClient = createRedisTrackerClient(config.redisUrl, { log });
      const tickClient = createRedisTickClient(config.redisUrl, { log });
      clients.push(storeClient, tickClient);
      await connectWithin(config.redisConnectTimeoutMs, config.redisUrl, "TRADINGCORE_REDIS_URL / REDIS_URL", [
        storeClient.connect(),
        tickClient.connect(),
      ]);
      shared = {
        store: new RedisTrackerStore(storeClient, { keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.redisCommandTimeoutMs }),
        ticks: new RedisTickCache(tickClient, { keyPrefix: config.redisKeyPrefix }, log),
        orderBook: new RedisPaperOrderBook(storeClient, config.redisKeyPrefix),
        owedExits: new RedisOwedExits(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        superseded: new RedisSupersededAttempts(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        sessions: new RedisSessionStore(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        dueTimes: new RedisDueTimes(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
        protection: new RedisProtectionStates(storeClient, config.redisKeyPrefix, config.redisCommandTimeoutMs),
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

async function connectWithin(ms: number, url: string, setting: string, connections: Promise<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisStartupError(`${setting}: no connection to ${redactedUrl(url)} within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.all(connections), timeout]);
  } catch (error) {
    if (error instanceof RedisStartupError) throw error;
    throw new RedisStartupError(
      `${setting}: cannot connect to ${redactedUrl(url)}: ${error instanceof Error ? error.message : String(error)}`,
    );
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
