/**
 * The Redis connection of the tick cache. Fails commands at once while
 * disconnected (no offline queue), so an outage costs the LTP chain one
 * failed hop, not a wait; reconnects by itself with a capped backoff.
 */
import { createClient } from "redis";
import type { ExitLog } from "../exit/ports.js";
import { redactedUrl } from "../lock/redis-lock-client.js";
import { TICK_SCRIPTS } from "./redis-tick-scripts.js";

export type RedisTickClient = ReturnType<typeof createRedisTickClient>;

/** A client with the tick script attached; call `connect()` before use. */
export function createRedisTickClient(url: string, options: { connectTimeoutMs?: number; log?: ExitLog } = {}) {
  const client = createClient({
    url,
    scripts: TICK_SCRIPTS,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      reconnectStrategy: (retries: number) => Math.min(1_000, 20 * 2 ** Math.min(retries, 10)),
    },
  });
  let lastLogged = 0;
  client.on("error", (error: unknown) => {
    const now = Date.now();
    if (now - lastLogged > 5_000) {
      lastLogged = now;
      options.log?.warn({ redis: redactedUrl(url), err: error }, "Redis tick connection error");
    }
  });
  return client;
}
