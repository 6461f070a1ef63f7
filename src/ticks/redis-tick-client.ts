/**
 * The Redis connection of the tick cache: an outage costs the LTP chain one
 * failed hop, not a wait (see redis-connection.ts). One Redis by URL, or the
 * master named by Sentinels.
 */
import {
  createFailFastRedisClient,
  createFailFastRedisSentinel,
  type RedisConnectionOptions,
  type RedisEndpoint,
} from "../redis-connection.js";
import { TICK_SCRIPTS } from "./redis-tick-scripts.js";

type StandaloneTickClient = ReturnType<typeof createStandaloneClient>;

/** What the tick cache uses of a connection; a Sentinel-managed client has all of it too. */
export type RedisTickClient = Pick<StandaloneTickClient, "hmGet" | "tickWriteMany" | "isOpen" | "isReady" | "close" | "destroy"> & {
  connect(): Promise<unknown>;
};

/** A client with the scripts attached; call `connect()` before use. */
export function createRedisTickClient(endpoint: string | RedisEndpoint, options: RedisConnectionOptions = {}): RedisTickClient {
  const target: RedisEndpoint = typeof endpoint === "string" ? { kind: "url", url: endpoint } : endpoint;
  if (target.kind === "url") return createStandaloneClient(target.url, options);
  return createFailFastRedisSentinel(target, TICK_SCRIPTS, "Redis tick cache", options);
}

function createStandaloneClient(url: string, options: RedisConnectionOptions) {
  return createFailFastRedisClient(url, TICK_SCRIPTS, "Redis tick cache", options);
}
