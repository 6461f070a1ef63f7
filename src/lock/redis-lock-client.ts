/**
 * One connection to one Redlock node. Commands fail at once while the node is
 * disconnected (no offline queue): a lock command replayed minutes later, on
 * reconnect, would be worse than one that failed. Reconnects forever with a
 * capped backoff, so a node that comes back rejoins the quorum by itself.
 */
import { createClient } from "redis";
import type { ExitLog } from "../exit/ports.js";
import { REDLOCK_SCRIPTS } from "./redlock-scripts.js";

export interface RedisLockClientOptions {
  /** Connection attempt bound, ms. */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts, ms. */
  readonly maxReconnectDelayMs?: number;
  readonly log?: ExitLog;
}

export type RedisLockClient = ReturnType<typeof createRedisLockClient>;

/** A client for one lock node with the Redlock scripts attached; call `connectLockClient` before use. */
export function createRedisLockClient(url: string, options: RedisLockClientOptions = {}) {
  const maxDelay = options.maxReconnectDelayMs ?? 1_000;
  const client = createClient({
    url,
    scripts: REDLOCK_SCRIPTS,
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
      options.log?.warn({ node: redactedUrl(url), err: error }, "Redis lock node error");
    }
  });
  return client;
}

/**
 * Starts connecting without waiting for the node: a lock node that is down at
 * start-up is a minority outage, not a start-up failure. Resolves once the
 * first connection succeeded or failed.
 */
export async function connectLockClient(client: RedisLockClient): Promise<boolean> {
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  }
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
