/**
 * The one way tradingcore opens a Redis connection (lock nodes, tracker store,
 * tick cache). Commands fail at once while disconnected (no offline queue): a
 * lock or tracker write replayed later, on reconnect, would race the exits
 * that went on meanwhile, and a tick read that waits costs the LTP chain more
 * than a failed hop. Reconnects by itself with a capped backoff; connection
 * errors are logged at most every 5 s, with the URL's credentials removed.
 *
 * The tracker store and the tick cache may also reach their Redis through
 * Sentinel (`RedisEndpoint` kind "sentinel"): the client asks the Sentinels
 * for the current master and follows a failover to the promoted replica by
 * itself. Lock nodes never do (see redis-adapters.ts).
 */
import { createClient, createSentinel, type RedisScripts } from "redis";
import type { ExitLog } from "./exit/ports.js";

export interface RedisConnectionOptions {
  /** Connection attempt bound, ms (2000 when unset). */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts, ms (1000 when unset). */
  readonly maxReconnectDelayMs?: number;
  readonly log?: ExitLog;
}

/** One Redis by URL, or the master a set of Sentinels names. */
export type RedisEndpoint = { readonly kind: "url"; readonly url: string } | SentinelEndpoint;

export interface SentinelEndpoint {
  readonly kind: "sentinel";
  /** redis:// or rediss:// URLs of the Sentinels; their credentials authenticate to the Sentinels. */
  readonly sentinelUrls: readonly string[];
  /** The name the Sentinels monitor the master under. */
  readonly masterName: string;
  /** How to authenticate to the master and replicas themselves ("" = no ACL user / no password). */
  readonly nodeUsername: string;
  readonly nodePassword: string;
  /** TLS to the master and replicas. */
  readonly nodeTls: boolean;
}

/** A client with `scripts` attached; call `connect()` before use. */
export function createFailFastRedisClient<S extends RedisScripts>(
  url: string,
  scripts: S,
  what: string,
  options: RedisConnectionOptions = {},
) {
  const client = createClient({ url, scripts, disableOfflineQueue: true, socket: socketOptions(options) });
  logErrorsQuietly(client, redactedUrl(url), what, options.log);
  return client;
}

/**
 * A client of the master the Sentinels name, with `scripts` attached; call
 * `connect()` before use. One connection to the master (the store's
 * compare-and-set and the WAIT that confirms it must share one), no reads
 * from replicas (a replica may lag the write an exit just made).
 */
export function createFailFastRedisSentinel<S extends RedisScripts>(
  endpoint: SentinelEndpoint,
  scripts: S,
  what: string,
  options: RedisConnectionOptions = {},
) {
  const sentinels = endpoint.sentinelUrls.map((url) => new URL(url));
  const first = sentinels[0];
  if (!first) throw new Error(`${what}: no Sentinel address`);
  const sentinel = createSentinel({
    name: endpoint.masterName,
    sentinelRootNodes: sentinels.map((url) => ({ host: url.hostname, port: Number(url.port || 26379) })),
    scripts,
    masterPoolSize: 1,
    replicaPoolSize: 0,
    nodeClientOptions: {
      ...(endpoint.nodeUsername ? { username: endpoint.nodeUsername } : {}),
      ...(endpoint.nodePassword ? { password: endpoint.nodePassword } : {}),
      disableOfflineQueue: true,
      socket: { ...socketOptions(options), ...(endpoint.nodeTls ? { tls: true as const } : {}) },
    },
    sentinelClientOptions: {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      socket: { ...socketOptions(options), ...(first.protocol === "rediss:" ? { tls: true as const } : {}) },
    },
  });
  const where = `sentinel ${endpoint.masterName} via ${endpoint.sentinelUrls.map(redactedUrl).join(",")}`;
  logErrorsQuietly(sentinel, where, what, options.log);
  return sentinel;
}

/** Where an endpoint points, without credentials, for logs and messages. */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  return endpoint.kind === "url"
    ? redactedUrl(endpoint.url)
    : `sentinel master ${endpoint.masterName} via ${endpoint.sentinelUrls.map(redactedUrl).join(",")}`;
}

function socketOptions(options: RedisConnectionOptions) {
  const maxDelay = options.maxReconnectDelayMs ?? 1_000;
  return {
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    reconnectStrategy: (retries: number) => Math.min(maxDelay, 20 * 2 ** Math.min(retries, 10)),
  };
}

function logErrorsQuietly(
  emitter: { on(event: "error", listener: (error: unknown) => void): unknown },
  where: string,
  what: string,
  log: ExitLog | undefined,
): void {
  let lastLogged = 0;
  emitter.on("error", (error: unknown) => {
    // Errors are answered per command; this only keeps a noisy outage out of the log.
    const now = Date.now();
    if (now - lastLogged > 5_000) {
      lastLogged = now;
      log?.warn({ redis: where, err: error }, `${what} connection error`);
    }
  });
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
