/**
 * The Redis audit trail, for the composition root: with the store on Redis
 * (a URL, or the master the Sentinels name) and `--audit-trail` auto or
 * redis, every process appends its exit events to one stream under the key
 * prefix and follows it, so a watcher connected to any process sees the
 * fleet's events. Its two connections reach the store's Redis as the store's
 * do and follow a failover; with replicas to confirm
 * (TRADINGCORE_REDIS_CONFIRM_REPLICAS) its appends and what it delivers are
 * confirmed by them too (redis-exit-trail.ts). Start-up waits for both
 * connections as it waits for the tracker store's.
 */
import type { Config } from "./config.js";
import type { Clock, ExitLog } from "./exit/ports.js";
import type { StillRecorded } from "./exit/recorded-events.js";
import { connectWithin, storeEndpoint } from "./redis-adapters.js";
import { describeEndpoint } from "./redis-connection.js";
import { RedisExitTrail } from "./trail/redis-exit-trail.js";
import { createRedisTrailClient, createRedisTrailFollowerClient } from "./trail/redis-trail-client.js";
import { RedisTrailFollower } from "./trail/redis-trail-follower.js";

export interface RedisTrailAdapter {
  readonly trail: RedisExitTrail;
  /** Appends what is queued (up to `graceMs`), stops following, closes both connections. */
  close(graceMs: number): Promise<void>;
}

/** True when the configuration puts the audit trail on Redis. */
export function usesRedisTrail(config: Config): boolean {
  return storeEndpoint(config) !== undefined && config.auditTrail !== "memory";
}

export async function connectRedisTrail(
  config: Config,
  deps: {
    readonly clock: Clock;
    readonly log: ExitLog;
    readonly process: string;
    /** What the tracker store still holds: events queued when an append failed are checked against it. */
    readonly recorded?: StillRecorded;
  },
): Promise<RedisTrailAdapter> {
  const endpoint = storeEndpoint(config);
  if (!endpoint) throw new Error("the Redis audit trail needs the store's Redis (a URL or Sentinels)");
  const client = createRedisTrailClient(endpoint, { log: deps.log });
  const followerClient = createRedisTrailFollowerClient(endpoint, { log: deps.log });
  const closeClients = async () => {
    for (const each of [client, followerClient]) {
      if (each.isReady) await each.close().catch(() => each.destroy());
      else if (each.isOpen) each.destroy();
    }
  };
  try {
    const setting = endpoint.kind === "url" ? "TRADINGCORE_REDIS_URL / REDIS_URL" : "TRADINGCORE_REDIS_SENTINELS";
    await connectWithin(config.redisConnectTimeoutMs, describeEndpoint(endpoint), `${setting} (audit trail)`, [
      client.connect(),
      followerClient.connect(),
    ]);
  } catch (error) {
    await closeClients();
    throw error;
  }
  const key = `${config.redisKeyPrefix}exit-trail`;
  // The store's replicas confirm the trail too: an event appended on a master that dies before replicating it is appended again.
  const confirmation =
    config.redisConfirmReplicas > 0
      ? {
          barrierKey: `${config.redisKeyPrefix}replication-barrier`,
          replicas: config.redisConfirmReplicas,
          timeoutMs: config.redisConfirmTimeoutMs,
        }
      : undefined;
  const follower = new RedisTrailFollower(followerClient, key, deps.clock, deps.log, confirmation);
  const trail = new RedisExitTrail(client, follower, deps.clock, deps.log, {
    keyPrefix: config.redisKeyPrefix,
    retention: { maxEvents: config.auditMaxEvents, maxAgeMs: config.auditMaxAgeMs },
    process: deps.process,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    ...(confirmation ? { confirmation } : {}),
    ...(deps.recorded ? { recorded: deps.recorded } : {}),
  });
  return {
    trail,
    async close(graceMs) {
      await trail.close(graceMs);
      await closeClients();
    },
  };
}
