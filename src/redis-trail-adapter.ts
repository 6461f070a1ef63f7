/**
 * The Redis audit trail, for the composition root: with a Redis URL and
 * `--audit-trail` auto or redis, every process appends its exit events to one
 * stream under the key prefix and follows it, so a watcher connected to any
 * process sees the fleet's events. Start-up waits for its two connections as
 * it waits for the tracker store's.
 */
import type { Config } from "./config.js";
import type { Clock, ExitLog } from "./exit/ports.js";
import { connectWithin } from "./redis-adapters.js";
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
  return config.redisUrl !== "" && config.auditTrail !== "memory";
}

export async function connectRedisTrail(
  config: Config,
  deps: { readonly clock: Clock; readonly log: ExitLog; readonly process: string },
): Promise<RedisTrailAdapter> {
  const client = createRedisTrailClient(config.redisUrl, { log: deps.log });
  const followerClient = createRedisTrailFollowerClient(config.redisUrl, { log: deps.log });
  const closeClients = async () => {
    for (const each of [client, followerClient]) {
      if (each.isReady) await each.close().catch(() => each.destroy());
      else if (each.isOpen) each.destroy();
    }
  };
  try {
    await connectWithin(config.redisConnectTimeoutMs, config.redisUrl, "TRADINGCORE_REDIS_URL / REDIS_URL (audit trail)", [
      client.connect(),
      followerClient.connect(),
    ]);
  } catch (error) {
    await closeClients();
    throw error;
  }
  const key = `${config.redisKeyPrefix}exit-trail`;
  const trail = new RedisExitTrail(client, new RedisTrailFollower(followerClient, key, deps.clock, deps.log), deps.clock, deps.log, {
    keyPrefix: config.redisKeyPrefix,
    retention: { maxEvents: config.auditMaxEvents, maxAgeMs: config.auditMaxAgeMs },
    process: deps.process,
    commandTimeoutMs: config.redisCommandTimeoutMs,
  });
  return {
    trail,
    async close(graceMs) {
      await trail.close(graceMs);
      await closeClients();
    },
  };
}
