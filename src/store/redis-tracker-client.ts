/**
 * The Redis connection of the tracker store (see redis-connection.ts for why
 * commands fail fast while disconnected).
 */
import { createFailFastRedisClient, type RedisConnectionOptions } from "../redis-connection.js";
import { PROTECTION_SCRIPTS } from "./redis-protection-scripts.js";
import { TRACKER_SCRIPTS } from "./redis-tracker-scripts.js";

export type RedisTrackerClient = ReturnType<typeof createRedisTrackerClient>;

/** A client with the scripts attached; call `connect()` before use. */
export function createRedisTrackerClient(url: string, options: RedisConnectionOptions = {}) {
  return createFailFastRedisClient(url, { ...TRACKER_SCRIPTS, ...PROTECTION_SCRIPTS }, "Redis tracker store", options);
}
