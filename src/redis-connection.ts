/**
 * The one way tradingcore opens a Redis connection (lock nodes, tracker store,
 * tick cache). Commands fail at once while disconnected (no offline queue): a
 * lock or tracker write replayed later, on reconnect, would race the exits
 * that went on meanwhile, and a tick read that waits costs the LTP chain more
 * than a failed hop. Reconnects by itself with a capped backoff; connection
 * errors are logged at most every 5 s, with the URL's credentials removed.
 */
import { createClient, type RedisScripts } from "redis";
import type { ExitLog } from "./exit/ports.js";

export interface RedisConnectionOptions {
  /** Connection attempt bound, ms (2000 when unset). */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts, ms (1000 when unset). */
  readonly maxReconnectDelayMs?: number;
  readonly log?: ExitLog;
}

/** A client with `scripts` attached; call `connect()` before use. */
export function createFailFastRedisClient<S extends RedisScripts>(
  url: string,
  scripts: S,
  what: string,
  options: RedisConnectionOptions = {},
) {
  const maxDelay = options.maxReconnectDelayMs ?? 1_000;
  const client = createClient({
    url,
    scripts,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      reconnectStrategy: (retries: number) => Math.min(maxDelay, 20 * 2 ** Math.min(retries, 10)),
    },
  });
  let lastLogged = 0;
  client.on("error", (error: unknown) => {
    // Errors are answered per command; this only keeps a noisy outage out of the log.
    const now = Date.now();
    if (now - lastLogged > 5_000) {
      lastLogged = now;
      options.log?.warn({ redis: redactedUrl(url), err: error }, `${what} connection error`);
    }
  });
  return client;
}

/** The URL without credentials, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
