/**
 * The Redis connection of the tick cache: an outage costs the LTP chain one
 * failed hop, not a wait (see redis-connection.ts).
 */
import { createFailFastRedisClient, type RedisConnectionOptions } from "../redis-connection.js";
import { TICK_SCRIPTS } from "./redis-tick-scripts.js";

export type RedisTickClient = ReturnType<typeof createRedisTickClient>;

/** A client with the scripts attached; call `connect()` before use. */
export function createRedisTickClient(url: string, options: RedisConnectionOptions = {}) {
  return createFailFastRedisClient(url, TICK_SCRIPTS, "Redis tick cache", options);
}
