/**
 * The Redis connection of the tracker store and the tick cache. Commands fail
 * at once while disconnected (no offline queue): a tracker write replayed
 * later, on reconnect, would race the exits that went on meanwhile. It
 * reconnects by itself with a capped backoff.
 */
import { createClient } from "redis";
import type { ExitLog } from "../exit/ports.js";
import { redactedUrl } from "../lock/redis-lock-client.js";
import { TRACKER_SCRIPTS } from "./redis-tracker-scripts.js";

export type RedisTrackerClient = ReturnType<typeof createRedisTrackerClient>;

/** A client with the tracker scripts attached; call `connect()` before use. */
export function createRedisTrackerClient(url: string, options: { connectTimeoutMs?: number; log?: ExitLog } = {}) {
  const client = createClient({
    url,
    scripts: TRACKER_SCRIPTS,
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
      options.log?.warn({ redis: redactedUrl(url), err: error }, "Redis connection error");
    }
  });
  return client;
}
