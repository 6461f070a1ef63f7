/**
 * The Redis connections of the exit trail: one for appends and reads, with
 * the append script attached, and one for the follower, whose blocking XREAD
 * would otherwise hold up every command queued behind it.
 */
import { createFailFastRedisClient, type RedisConnectionOptions } from "../redis-connection.js";
import { TRAIL_SCRIPTS } from "./redis-trail-scripts.js";

export type RedisTrailClient = ReturnType<typeof createRedisTrailClient>;
export type RedisTrailFollowerClient = ReturnType<typeof createRedisTrailFollowerClient>;

/** A client with the append script attached; call `connect()` before use. */
export function createRedisTrailClient(url: string, options: RedisConnectionOptions = {}) {
  return createFailFastRedisClient(url, TRAIL_SCRIPTS, "Redis exit trail", options);
}

/** A client for the follower's blocking reads; call `connect()` before use. */
export function createRedisTrailFollowerClient(url: string, options: RedisConnectionOptions = {}) {
  return createFailFastRedisClient(url, {}, "Redis exit trail follower", options);
}
