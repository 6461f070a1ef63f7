/**
 * Configuration from environment variables and command-line flags (a flag
 * wins over its variable), validated at start-up. A bad value stops the
 * process with a message naming the setting, before anything listens.
 *
 * Every setting: flag `--kebab-name`, variable `TRADINGCORE_SNAKE_NAME`.
 */
import { parseArgs } from "node:util";
import { bool, integer, listenHost, oneOf, type Parser, rate, redisUrl, redisUrls, sessionEnds, text, url } from "./config-parsers.js";
import { DHAN_FEED_SETTINGS } from "./config-dhan-feeds.js";
import { TRANSPORT_SETTINGS } from "./config-transport.js";
import { DEFAULT_EXIT_ENGINE_SETTINGS } from "./exit/exit-engine.js";
import { DEFAULT_TOKEN_WARN_BEFORE_MS } from "./router/dhan-access-token.js";
import { EXITABLE_PRODUCT_TYPES } from "./router/dhan-router.js";
import { parseFreezeLimits } from "./router/dhan-slices.js";
import { DHAN_ORDER_RATE_LIMITS, parseRateWindows } from "./router/order-rate-limit.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

interface Setting<T> {
  readonly flag: string;
  readonly description: string;
  readonly defaultValue: T;
  readonly parse: Parser<T>;
  /** A second environment variable read when `TRADINGCORE_…` is unset (e.g. the conventional REDIS_URL). */
  readonly envAlias?: string;
}

/** Every setting with its default; the README's configuration table follows this list. */
export const SETTINGS = {
  host: {
    flag: "host",
    description: "address to listen on (an IPv6 address with or without brackets)",
    defaultValue: "127.0.0.1",
    parse: listenHost,
  },
  port: {
    flag: "port",
    // Platforms (Heroku, Cloud Run, Render, …) assign the port in PORT: it is the gRPC port when ours is unset.
    envAlias: "PORT",
    description: "port to listen on (grpc-js, or connect when it runs alone); 0 picks a free one",
    defaultValue: 50051,
    parse: integer(0, 65535),
  },
  engine: {
    flag: "engine",
    description:
      "server engine: grpc-js (gRPC only, fastest), connect (gRPC, gRPC-Web and Connect) or both (grpc-js on --port, connect on --connect-port)",
    defaultValue: "both" as "grpc-js" | "connect" | "both",
    parse: oneOf("grpc-js", "connect", "both"),
  },
  connectPort: {
    flag: "connect-port",
    description: "port of the connect engine when --engine is both; 0 picks a free one",
    defaultValue: 50052,
    parse: integer(0, 65535),
  },
  logLevel: {
    flag: "log-level",
    description: "fatal, error, warn, info, debug, trace or silent",
    defaultValue: "info",
    parse: oneOf("fatal", "error", "warn", "info", "debug", "trace", "silent"),
  },
  traceProbes: {
    flag: "trace-probes",
    description: "with tracing on, trace health checks and reflection calls too (off: they get no span)",
    defaultValue: false,
    parse: bool,
  },
  router: {
    flag: "router",
    description: "order router: paper, dhan or none",
    defaultValue: "paper",
    parse: oneOf("paper", "dhan", "none"),
  },
  dhanBaseUrl: { flag: "dhan-base-url", description: "Dhan v2 API base URL", defaultValue: "https://api.dhan.co", parse: url },
  dhanClientId: { flag: "dhan-client-id", description: "Dhan client id (router dhan)", defaultValue: "", parse: text },
  dhanAccessToken: {
    flag: "dhan-access-token",
    description: "Dhan access token (router dhan; prefer the variable or the token file, never logged)",
    defaultValue: "",
    parse: text,
  },
  dhanAccessTokenFile: {
    flag: "dhan-access-token-file",
    description: "file holding the Dhan access token; re-read when it changes and on SIGHUP, so a renewed token needs no restart",
    defaultValue: "",
    parse: text,
  },
  dhanTokenWarnBeforeMs: {
    flag: "dhan-token-warn-before-ms",
    description: "warn this long before the access token (a JWT) says it expires, ms",
    defaultValue: DEFAULT_TOKEN_WARN_BEFORE_MS,
    parse: integer(0, 7 * 86_400_000),
  },
  dhanProductType: {
    flag: "dhan-product-type",
    description: "Dhan productType of exit orders for trackers registered without product_type (CO and BO cannot be exited)",
    defaultValue: "INTRADAY",
    parse: oneOf(...EXITABLE_PRODUCT_TYPES),
  },
  dhanOrderRateLimits: {
    flag: "dhan-order-rate-limits",
    description:
      "the account's order rate limits, limit/unit windows (s, m, h, d); shared by every process through Redis when REDIS_URL is set",
    defaultValue: DHAN_ORDER_RATE_LIMITS,
    parse: (value: string) => (parseRateWindows(value), value.trim()),
  },
  dhanFreezeQuantities: {
    flag: "dhan-freeze-quantities",
    description:
      "freeze quantities above which an exit is sliced: SEGMENT=qty or SEGMENT:security_id=qty, comma-separated; empty: never sliced",
    defaultValue: "",
    parse: (value: string) => (parseFreezeLimits(value), value.trim()),
  },
  paperLatencyMs: {
    flag: "paper-latency-ms",
    description: "paper router: latency added to each order, ms",
    defaultValue: 0,
    parse: integer(0, 60_000),
  },
  paperRejectRate: {
    flag: "paper-reject-rate",
    description: "paper router: share of orders rejected (0..1)",
    defaultValue: 0,
    parse: rate,
  },
  paperTimeoutRate: {
    flag: "paper-timeout-rate",
    description: "paper router: share of calls that hang (0..1)",
    defaultValue: 0,
    parse: rate,
  },
  paperLostReplyRate: {
    flag: "paper-lost-reply-rate",
    description: "paper router: share of orders placed whose reply is lost (0..1)",
    defaultValue: 0,
    parse: rate,
  },
  paperRejectAfterAcceptRate: {
    flag: "paper-reject-after-accept-rate",
    description: "paper router: share of orders accepted, then rejected --paper-late-ms later (0..1)",
    defaultValue: 0,
    parse: rate,
  },
  paperPartialFillRate: {
    flag: "paper-partial-fill-rate",
    description: "paper router: share of orders half filled at once, the rest cancelled --paper-late-ms later (0..1)",
    defaultValue: 0,
    parse: rate,
  },
  paperLateFillRate: {
    flag: "paper-late-fill-rate",
    description: "paper router: share of orders filled only --paper-late-ms later (0..1)",
    defaultValue: 0,
    parse: rate,
  },
  paperLateMs: {
    flag: "paper-late-ms",
    description: "paper router: delay of late fills, rejections after acceptance and cancels, ms",
    defaultValue: 2_000,
    parse: integer(0, 3_600_000),
  },
  paperOrderExpiryMs: {
    flag: "paper-order-expiry-ms",
    description: "paper router: an order sent with no LTP that sees no tick of its instrument expires after this, ms",
    defaultValue: 60_000,
    parse: integer(1, 86_400_000),
  },
  paperSeed: {
    flag: "paper-seed",
    description: "paper router: seed of its fault draws, so a fault run repeats",
    defaultValue: 1,
    parse: integer(0, 4_294_967_295),
  },
  lockTtlMs: {
    flag: "lock-ttl-ms",
    description: "exit lock TTL, ms (extended while the exit runs)",
    defaultValue: 10_000,
    parse: integer(100, 600_000),
  },
  routerTimeoutMs: {
    flag: "router-timeout-ms",
    description: "longest wait for one router call, ms",
    defaultValue: 5_000,
    parse: integer(1, 120_000),
  },
  unknownOrderGraceMs: {
    flag: "unknown-order-grace-ms",
    description: "after this, an intent whose order the broker does not know counts as never placed, ms",
    defaultValue: 30_000,
    parse: integer(0, 3_600_000),
  },
  sendDeadlineMarginMs: {
    flag: "send-deadline-margin-ms",
    description:
      "margin past an intent's send deadline (clock drift between processes, transit) before an order the broker does not know counts as never placed, ms",
    defaultValue: 2_000,
    parse: integer(0, 600_000),
  },
  fillWaitMs: {
    flag: "fill-wait-ms",
    description:
      "longest wait of ExecuteExit for an accepted order's fill (also ended before the caller's deadline) before it answers AWAITING_FILL, ms",
    defaultValue: 3_000,
    parse: integer(0, 600_000),
  },
  fillPollIntervalMs: {
    flag: "fill-poll-interval-ms",
    description: "pause between look-ups of an order whose fill is awaited, ms",
    defaultValue: 250,
    parse: integer(1, 60_000),
  },
  duplicateWatchMs: {
    flag: "duplicate-watch-ms",
    description: "how long the reconciler keeps looking up a superseded exit attempt for a duplicate order, ms",
    defaultValue: 3_600_000,
    parse: integer(0, 604_800_000),
  },
  overdueOrderAfterMs: {
    flag: "overdue-order-after-ms",
    description:
      "an exit order still live at the broker this long after its intent is reported (error log, ORDER_OVERDUE event, metric), ms",
    defaultValue: 300_000,
    parse: integer(1, 604_800_000),
  },
  trackerUpdateRetries: {
    flag: "tracker-update-retries",
    description: "retries of the tracker update after an accepted order",
    defaultValue: 3,
    parse: integer(0, 20),
  },
  ltpStaleAfterMs: {
    flag: "ltp-stale-after-ms",
    description: "an LTP older than this is flagged stale, ms",
    defaultValue: 5_000,
    parse: integer(1, 86_400_000),
  },
  ltpMemoryHopTimeoutMs: {
    flag: "ltp-memory-hop-timeout-ms",
    description: "longest wait for the memory LTP source when it cannot answer at once, ms",
    defaultValue: 50,
    parse: integer(1, 10_000),
  },
  ltpRedisHopTimeoutMs: {
    flag: "ltp-redis-hop-timeout-ms",
    description: "longest wait for the Redis LTP source, ms (a miss falls through to no price; every miss is counted)",
    defaultValue: 250,
    parse: integer(1, 10_000),
  },
  redisUrl: {
    flag: "redis-url",
    envAlias: "REDIS_URL",
    description:
      "Redis for the tracker store, the shared tick cache and the paper order book (redis:// or rediss://); empty = embedded, in memory",
    defaultValue: "",
    parse: redisUrl,
  },
  redisLockUrls: {
    flag: "redis-lock-urls",
    envAlias: "REDIS_LOCK_URLS",
    description: "comma-separated independent Redis masters for the Redlock exit lock (quorum N/2+1); defaults to the Redis URL",
    defaultValue: [] as string[],
    parse: redisUrls,
  },
  redisSentinels: {
    flag: "redis-sentinels",
    description:
      "comma-separated redis:// or rediss:// URLs of Redis Sentinels: the tracker store and tick cache use the master they name (instead of --redis-url) and follow its failover; the URLs' credentials and scheme are the Sentinels' own",
    defaultValue: [] as string[],
    parse: redisUrls,
  },
  redisSentinelMaster: {
    flag: "redis-sentinel-master",
    description: "the master name the Sentinels monitor (required with --redis-sentinels)",
    defaultValue: "",
    parse: text,
  },
  redisSentinelNodeUsername: {
    flag: "redis-sentinel-node-username",
    description: "ACL user for the master and replicas the Sentinels name (empty = the default user)",
    defaultValue: "",
    parse: text,
  },
  redisSentinelNodePassword: {
    flag: "redis-sentinel-node-password",
    description: "password for the master and replicas the Sentinels name (empty = none); never logged",
    defaultValue: "",
    parse: text,
  },
  redisSentinelNodeTls: {
    flag: "redis-sentinel-node-tls",
    description: "TLS to the master and replicas the Sentinels name",
    defaultValue: false,
    parse: bool,
  },
  redisConfirmReplicas: {
    flag: "redis-confirm-replicas",
    description:
      "replicas that must confirm (WAIT) an exit's intent before its order is sent and its EXITED before it is answered; 0 = no wait (a single node)",
    defaultValue: 0,
    parse: integer(0, 16),
  },
  redisConfirmTimeoutMs: {
    flag: "redis-confirm-timeout-ms",
    description:
      "longest wait for the replicas' confirmation, ms; unconfirmed, an intent answers EXIT_IN_PROGRESS (nothing sent) and an exit PENDING_RECONCILE",
    defaultValue: 500,
    parse: integer(1, 60_000),
  },
  redisKeyPrefix: {
    flag: "redis-key-prefix",
    description:
      "prefix of every Redis key: trackers, tick hashes, lock keys and fence counters, paper order book, owed exits, audit trail",
    defaultValue: "tc:",
    parse: text,
  },
  redisCommandTimeoutMs: {
    flag: "redis-command-timeout-ms",
    description: "longest wait for one tracker store operation, ms",
    defaultValue: 2_000,
    parse: integer(1, 60_000),
  },
  redisConnectTimeoutMs: {
    flag: "redis-connect-timeout-ms",
    description: "how long start-up waits for Redis before giving up, ms",
    defaultValue: 5_000,
    parse: integer(1, 120_000),
  },
  lockNodeTimeoutMs: {
    flag: "lock-node-timeout-ms",
    description: "longest wait for one Redlock node's answer, ms (small against the lock TTL)",
    defaultValue: 100,
    parse: integer(1, 60_000),
  },
  lockAttempts: {
    flag: "lock-attempts",
    description: "Redlock acquisition rounds when no holder has a quorum",
    defaultValue: 3,
    parse: integer(1, 20),
  },
  lockRetryDelayMs: {
    flag: "lock-retry-delay-ms",
    description: "pause before a Redlock retry, ms, plus up to twice as much random jitter",
    defaultValue: 30,
    parse: integer(0, 10_000),
  },
  shutdownGraceMs: {
    flag: "shutdown-grace-ms",
    description: "how long shutdown waits for in-flight calls, ms",
    defaultValue: 10_000,
    parse: integer(0, 600_000),
  },
  reconcilerGraceMs: {
    flag: "reconciler-grace-ms",
    description: "the reconciler leaves an exit intent younger than this to the exit that made it, ms",
    defaultValue: 10_000,
    parse: integer(0, 3_600_000),
  },
  reconcilerIntervalMs: {
    flag: "reconciler-interval-ms",
    description: "pause between reconciler passes, ms",
    defaultValue: 5_000,
    parse: integer(10, 3_600_000),
  },
  reconcilerRetryBudget: {
    flag: "reconciler-retry-budget",
    description: "retries of a refused exit the reconciler owns before it is reported and left ACTIVE",
    defaultValue: 3,
    parse: integer(0, 100),
  },
  sessionCheckIntervalMs: {
    flag: "session-check-interval-ms",
    description: "pause between the dead-man switch's checks for lapsed sessions (how late a lapse may be noticed), ms",
    defaultValue: 1_000,
    parse: integer(10, 60_000),
  },
  sessionLapseRetryMs: {
    flag: "session-lapse-retry-ms",
    description:
      "a lapsed session whose exits are not all done (a rejection, a busy lock) is taken up again after this, by any process, ms",
    defaultValue: 30_000,
    parse: integer(1_000, 3_600_000),
  },
  sessionRetentionMs: {
    flag: "session-retention-ms",
    description:
      "with the Redis store: how long a closed session, or a lapsed one whose action is done, stays readable (GetSession) before its keys expire, ms",
    defaultValue: 7 * 24 * 3_600_000,
    parse: integer(60_000, 366 * 24 * 3_600_000),
  },
  schedulerIntervalMs: {
    flag: "scheduler-interval-ms",
    description: "pause between the scheduler's checks for due time exits and session-end square-offs (how late one may fire), ms",
    defaultValue: 1_000,
    parse: integer(10, 60_000),
  },
  schedulerRetryMs: {
    flag: "scheduler-retry-ms",
    description:
      "a due time exit not done (a rejection, a busy lock, a crash of the process firing it) fires again after this, by any process, ms",
    defaultValue: 30_000,
    parse: integer(1_000, 3_600_000),
  },
  sessionEndDefaults: {
    flag: "session-end-defaults",
    description:
      "session-end square-off of a tracker whose exit plan names none, per segment: comma-separated SEGMENT=HH:MM@Time/Zone (the first such time after registration); none: no default",
    defaultValue: [
      "NSE_EQ=15:15@Asia/Kolkata",
      "NSE_FNO=15:15@Asia/Kolkata",
      "BSE_EQ=15:15@Asia/Kolkata",
      "BSE_FNO=15:15@Asia/Kolkata",
      "NSE_CURRENCY=16:45@Asia/Kolkata",
      "BSE_CURRENCY=16:45@Asia/Kolkata",
      "MCX_COMM=23:15@Asia/Kolkata",
    ] as string[],
    parse: sessionEnds,
  },
  protectionRefreshMs: {
    flag: "protection-refresh-ms",
    description:
      "with the Redis store: pause between reads of the protection change log (plans registered, changed or removed through other processes, trackers settled elsewhere), ms",
    defaultValue: 1_000,
    parse: integer(50, 3_600_000),
  },
  protectionChangeLogMax: {
    flag: "protection-change-log-max",
    description:
      "entries the protection change log on Redis keeps, about (MAXLEN ~); a process further behind reads every protected tracker once",
    defaultValue: 100_000,
    parse: integer(1_000, 100_000_000),
  },
  protectionFlushMs: {
    flag: "protection-flush-ms",
    description:
      "with the Redis store: pause between writes of the protection states (trails, peaks) that moved, ms; a process that dies loses at most this much of a trail's progress (the embedded store is not written on a timer: reads ask the protecting book)",
    defaultValue: 250,
    parse: integer(10, 60_000),
  },
  protectionExitParallel: {
    flag: "protection-exit-parallel",
    description: "exits started by exit-plan rules that run at once",
    defaultValue: 8,
    parse: integer(1, 256),
  },
  protectionQueue: {
    flag: "protection-queue",
    description: "fired rules waiting for an exit slot; past it a rule fires again on a later tick",
    defaultValue: 10_000,
    parse: integer(1, 1_000_000),
  },
  protectionClaimTtlMs: {
    flag: "protection-claim-ttl-ms",
    description: "how long the process that claimed a fired rule keeps the others of the fleet off it, ms",
    defaultValue: 30_000,
    parse: integer(1_000, 3_600_000),
  },
  protectionRetryMs: {
    flag: "protection-retry-ms",
    description: "pause before a rule whose exit did not happen (refused, lock unavailable) may fire again, ms",
    defaultValue: 1_000,
    parse: integer(0, 600_000),
  },
  watchBufferSize: {
    flag: "watch-buffer-size",
    description: "WatchExits: events a watcher may fall behind before it is dropped",
    defaultValue: 1024,
    parse: integer(1, 1_000_000),
  },
  auditTrail: {
    flag: "audit-trail",
    description:
      "where the exit audit trail lives: redis (one stream the fleet shares, on the store's Redis: the Redis URL or the Sentinels' master), memory (this process's, bounded) or auto (redis when the store is on Redis)",
    defaultValue: "auto",
    parse: oneOf("auto", "redis", "memory"),
  },
  auditMaxEvents: {
    flag: "audit-max-events",
    description: "most events the audit trail keeps, the oldest dropped first (Redis: at least this many, trimmed a stream node at a time)",
    defaultValue: 100_000,
    parse: integer(1, 1_000_000_000),
  },
  auditMaxAgeMs: {
    flag: "audit-max-age-ms",
    description: "audit trail events older than this are dropped, ms; 0: no bound by age",
    defaultValue: 0,
    parse: integer(0, 10 * 365 * 86_400_000),
  },
  maxParkedOrderUpdates: {
    flag: "max-parked-order-updates",
    description: "order updates kept for correlation ids no tracker has yet",
    defaultValue: 10_000,
    parse: integer(0, 1_000_000),
  },
  maxParkedOrderUpdateBytes: {
    flag: "max-parked-order-update-bytes",
    description: "memory the order updates kept for unknown correlation ids may take, bytes (estimated); the oldest are dropped first",
    defaultValue: 16 * 1024 * 1024,
    parse: integer(65_536, 1024 * 1024 * 1024),
  },
  parkedOrderUpdateTtlMs: {
    flag: "parked-order-update-ttl-ms",
    description: "how long an order update waits for a tracker with its correlation id before it is dropped (logged as an error), ms",
    defaultValue: 3_600_000,
    parse: integer(1_000, 604_800_000),
  },
  faultPauseAfterOrderMs: {
    flag: "fault-pause-after-order-ms",
    description: "fault injection for crash tests: hold every placed exit order's reply this long before the tracker update, ms (0: off)",
    defaultValue: 0,
    parse: integer(0, 600_000),
  },
  authToken: {
    flag: "auth-token",
    description: "bearer token every call must carry (authorization: Bearer …); empty turns auth off; prefer the variable, never logged",
    defaultValue: "",
    parse: text,
  },
  authOpenHealthAndReflection: {
    flag: "auth-open-health-and-reflection",
    description: "with a token set, health and reflection still answer without one (true or false)",
    defaultValue: true,
    parse: bool,
  },
  allowRemoteWithoutAuth: {
    flag: "allow-remote-without-auth",
    description: "listen beyond loopback with no --auth-token (true or false); refused otherwise",
    defaultValue: false,
    parse: bool,
  },
  tlsCertFile: {
    flag: "tls-cert-file",
    description: "PEM certificate chain; with --tls-key-file, serves TLS",
    defaultValue: "",
    parse: text,
  },
  tlsKeyFile: { flag: "tls-key-file", description: "PEM private key of --tls-cert-file", defaultValue: "", parse: text },
  tlsClientCaFile: {
    flag: "tls-client-ca-file",
    description: "PEM CA bundle; when set, callers must present a certificate it signed (mTLS)",
    defaultValue: "",
    parse: text,
  },
  maxMessageBytes: {
    flag: "max-message-bytes",
    description: "largest request message accepted, bytes; larger ones answer RESOURCE_EXHAUSTED",
    defaultValue: 4 * 1024 * 1024,
    parse: integer(1024, 64 * 1024 * 1024),
  },
  maxConcurrentStreams: {
    flag: "max-concurrent-streams",
    description: "most calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)",
    defaultValue: 256,
    parse: integer(1, 65_535),
  },
  maxInflightExitsPerConnection: {
    flag: "max-inflight-exits-per-connection",
    description: "most ExecuteExit/ExitAll calls running at once per connection; more answer RESOURCE_EXHAUSTED",
    defaultValue: 64,
    parse: integer(1, 100_000),
  },
  ...TRANSPORT_SETTINGS,
  ...DHAN_FEED_SETTINGS,
} satisfies Record<string, Setting<unknown>>;

export type Config = { -readonly [K in keyof typeof SETTINGS]: (typeof SETTINGS)[K]["defaultValue"] };

export function envNameOf(flag: string): string {
  return `TRADINGCORE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** The defaults: the embedded configuration `npm start` runs with. */
export function defaultConfig(): Config {
  return Object.fromEntries(Object.entries(SETTINGS).map(([key, setting]) => [key, setting.defaultValue])) as Config;
}

/** Reads every setting from flags, then the environment, then defaults. Throws ConfigError naming the bad setting. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.values(SETTINGS).map((setting) => [setting.flag, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  const config = defaultConfig() as Record<string, unknown>;
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const fromFlag = flags[setting.flag];
    const envName = envNameOf(setting.flag);
    const fromAlias = setting.envAlias !== undefined && !env[envName] ? env[setting.envAlias] : undefined;
    const raw = typeof fromFlag === "string" ? fromFlag : env[envName] || fromAlias;
    if (raw === undefined || raw === "") continue;
    try {
      config[key] = setting.parse(raw);
    } catch (error) {
      const source = typeof fromFlag === "string" ? `--${setting.flag}` : fromAlias ? setting.envAlias! : envName;
      throw new ConfigError(`${source}: ${error instanceof Error ? error.message : String(error)} (${setting.description})`);
    }
  }
  const loaded = config as Config;
  if (loaded.router === "dhan" && (!loaded.dhanClientId || !(loaded.dhanAccessToken || loaded.dhanAccessTokenFile))) {
    throw new ConfigError(
      `${envNameOf("router")}=dhan needs ${envNameOf("dhan-client-id")} and ${envNameOf("dhan-access-token")} (or ${envNameOf("dhan-access-token-file")})`,
    );
  }
  if ((loaded.dhanOrderUpdateFeed || loaded.dhanMarketFeed) && loaded.router !== "dhan") {
    throw new ConfigError(
      `${envNameOf(loaded.dhanOrderUpdateFeed ? "dhan-order-update-feed" : "dhan-market-feed")} needs ${envNameOf("router")}=dhan: the feeds are Dhan's`,
    );
  }
  if (
    (loaded.redisUrl || loaded.redisSentinels.length > 0 || loaded.redisLockUrls.length > 0) &&
    loaded.lockNodeTimeoutMs * 3 >= loaded.lockTtlMs
  ) {
    throw new ConfigError(
      `${envNameOf("lock-node-timeout-ms")} (${loaded.lockNodeTimeoutMs}) must be below a third of ${envNameOf("lock-ttl-ms")} (${loaded.lockTtlMs}): a lock is extended every third of its TTL`,
    );
  }
  const problemWithStore = storeTopologyProblem(loaded);
  if (problemWithStore) throw new ConfigError(problemWithStore);
  // An exit makes up to notPlacedRetries + 1 router calls after its intent; an order the broker does not show
  // yet may still be on its way until the last of them ends. A shorter grace would re-place it: two orders.
  const routerCalls = DEFAULT_EXIT_ENGINE_SETTINGS.notPlacedRetries + 1;
  if (loaded.unknownOrderGraceMs <= loaded.routerTimeoutMs * routerCalls) {
    throw new ConfigError(
      `${envNameOf("unknown-order-grace-ms")} (${loaded.unknownOrderGraceMs}) must be above ${routerCalls} × ${envNameOf("router-timeout-ms")} (${loaded.routerTimeoutMs}): ` +
        "an order the broker does not show yet may still arrive while an exit's router calls can run",
    );
  }
  if (loaded.auditTrail === "redis" && !loaded.redisUrl && loaded.redisSentinels.length === 0) {
    throw new ConfigError(`${envNameOf("audit-trail")}=redis needs ${envNameOf("redis-url")} or ${envNameOf("redis-sentinels")}`);
  }
  const problem = exposureProblem(loaded);
  if (problem) throw new ConfigError(problem);
  return loaded;
}

/**
 * What is wrong with how the store's Redis is named, or undefined. Through
 * Sentinel it has one name only, and the lock nodes are named apart: a lock
 * on a master that fails over to a replica which never saw it is no lock.
 */
export function storeTopologyProblem(config: Config): string | undefined {
  if (config.redisSentinels.length > 0) {
    if (config.redisUrl !== "")
      return `${envNameOf("redis-sentinels")} and ${envNameOf("redis-url")} (REDIS_URL) both name the store's Redis: set one`;
    if (config.redisSentinelMaster === "") return `${envNameOf("redis-sentinels")} needs ${envNameOf("redis-sentinel-master")}`;
    if (config.redisLockUrls.length === 0)
      return `${envNameOf("redis-sentinels")} needs ${envNameOf("redis-lock-urls")}: the Redlock nodes are independent masters, never the failover pair`;
    const [first, ...rest] = config.redisSentinels.map((url) => new URL(url));
    if (rest.some((url) => url.protocol !== first!.protocol || url.username !== first!.username || url.password !== first!.password))
      return `${envNameOf("redis-sentinels")}: every Sentinel URL needs the same scheme and credentials`;
  }
  const storeNamed = config.redisUrl !== "" || config.redisSentinels.length > 0;
  if (config.redisConfirmReplicas > 0 && !storeNamed)
    return `${envNameOf("redis-confirm-replicas")} needs a Redis store (${envNameOf("redis-url")} or ${envNameOf("redis-sentinels")})`;
  if (config.redisConfirmReplicas > 0 && config.redisConfirmTimeoutMs >= config.redisCommandTimeoutMs)
    return `${envNameOf("redis-confirm-timeout-ms")} (${config.redisConfirmTimeoutMs}) must be below ${envNameOf("redis-command-timeout-ms")} (${config.redisCommandTimeoutMs}): store commands may wait behind a confirmation on its connection`;
  if (config.redisConfirmReplicas > 0 && config.redisConfirmTimeoutMs >= config.routerTimeoutMs)
    return `${envNameOf("redis-confirm-timeout-ms")} (${config.redisConfirmTimeoutMs}) must be below ${envNameOf("router-timeout-ms")} (${config.routerTimeoutMs}): the intent is confirmed inside the send deadline`;
  return undefined;
}

/** True for addresses that only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "localhost" || bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(bare)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * What is wrong with how the server would be exposed, or undefined: listening
 * beyond loopback needs a token (or an explicit opt-out), and TLS needs both
 * a certificate and its key. Checked before anything listens.
 */
export function exposureProblem(config: Config): string | undefined {
  if (!isLoopbackHost(config.host) && config.authToken === "" && !config.allowRemoteWithoutAuth) {
    return (
      `${envNameOf("host")}=${config.host} is beyond loopback and no ${envNameOf("auth-token")} is set: ` +
      `set a token, or ${envNameOf("allow-remote-without-auth")}=true to accept unauthenticated calls from the network`
    );
  }
  if ((config.tlsCertFile === "") !== (config.tlsKeyFile === "")) {
    return `${envNameOf("tls-cert-file")} and ${envNameOf("tls-key-file")} go together: set both or neither`;
  }
  if (config.tlsClientCaFile !== "" && config.tlsCertFile === "") {
    return `${envNameOf("tls-client-ca-file")} (mTLS) needs ${envNameOf("tls-cert-file")} and ${envNameOf("tls-key-file")}`;
  }
  return undefined;
}
