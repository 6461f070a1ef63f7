/**
 * The one start-up log line that names what this process runs on: the
 * store, the exit lock, the router, the tick sources and where telemetry
 * goes. Built from the configuration and the adapters main.ts picked, never
 * from a secret: URLs lose their credentials, tokens are not read at all.
 */
import type { Config } from "./config.js";
import type { ExitLog } from "./exit/ports.js";
import { redactedUrl } from "./redis-connection.js";
import type { Telemetry } from "./telemetry/telemetry.js";

export interface StartupSummary {
  /** `memory`, or `redis <url> prefix <prefix>`. */
  readonly store: string;
  /** `in-process`, or `redlock <n> node(s) <urls> quorum <q>`. */
  readonly lock: string;
  /** `paper`, `dhan <base url>` or `none`, with the fault settings a paper router runs with. */
  readonly router: string;
  /** The LTP chain in the order it is asked. */
  readonly ticks: readonly string[];
  /** Where spans and metrics go, or `off`. */
  readonly telemetry: string;
  /** `memory` or `redis stream <key>`, with its retention. */
  readonly audit: string;
}

/** What main.ts chose, as far as the summary needs it. */
export interface ChosenAdapters {
  /** The store and lock came from the caller (a test, an embedding program) rather than the configuration. */
  readonly storeOverridden: boolean;
  readonly lockOverridden: boolean;
  /** The router in use: the configured one, a caller's, or none. */
  readonly router: "configured" | "supplied" | "none";
  /** Redlock's quorum, when the lock is Redlock. */
  readonly lockQuorum: number | undefined;
  readonly redisTicks: boolean;
  /** The audit trail came from the caller. */
  readonly trailOverridden: boolean;
}

/** What the caller supplied (main.ts's overrides) and which Redis adapters were built. */
export function chosenAdapters(
  overrides: { readonly store?: unknown; readonly lock?: unknown; readonly router?: unknown; readonly trail?: unknown },
  redis: { readonly lock?: { readonly quorum: number }; readonly ticks?: unknown } | undefined,
): ChosenAdapters {
  return {
    storeOverridden: overrides.store !== undefined,
    lockOverridden: overrides.lock !== undefined,
    router: overrides.router === null ? "none" : overrides.router !== undefined ? "supplied" : "configured",
    lockQuorum: overrides.lock === undefined ? redis?.lock?.quorum : undefined,
    redisTicks: redis?.ticks !== undefined,
    trailOverridden: overrides.trail !== undefined,
  };
}

export function startupSummary(config: Config, chosen: ChosenAdapters, telemetry: Telemetry): StartupSummary {
  const lockUrls = config.redisLockUrls.length > 0 ? config.redisLockUrls : config.redisUrl ? [config.redisUrl] : [];
  return {
    store: chosen.storeOverridden
      ? "supplied by the caller"
      : config.redisSentinels.length > 0 || config.redisUrl
        ? `redis ${storeWhere(config)} prefix ${config.redisKeyPrefix}${config.redisConfirmReplicas > 0 ? ` confirmed by ${config.redisConfirmReplicas} replicas` : ""}`
        : "memory",
    lock: chosen.lockOverridden
      ? "supplied by the caller"
      : chosen.lockQuorum !== undefined
        ? `redlock ${lockUrls.length} node${lockUrls.length === 1 ? "" : "s"} ${lockUrls.map(redactedUrl).join(",")} quorum ${chosen.lockQuorum}`
        : "in-process",
    router: routerOf(config, chosen.router),
    ticks: chosen.redisTicks ? ["memory", "redis"] : ["memory"],
    telemetry: telemetryOf(telemetry),
    audit: auditOf(config, chosen.trailOverridden),
  };
}

function auditOf(config: Config, overridden: boolean): string {
  if (overridden) return "supplied by the caller";
  const onRedis = config.redisUrl !== "" || config.redisSentinels.length > 0;
  const where = onRedis && config.auditTrail !== "memory" ? `redis stream ${config.redisKeyPrefix}exit-trail` : "memory";
  const age = config.auditMaxAgeMs > 0 ? ` and ${config.auditMaxAgeMs} ms` : "";
  return `${where} keeping ${config.auditMaxEvents} events${age}`;
}

/** Logs the summary as `using` (for machines) with a message saying the same (for a reader of the raw log). */
export function logStartupSummary(log: ExitLog, summary: StartupSummary): void {
  log.info({ using: summary }, startupMessage(summary));
}

export function startupMessage(summary: StartupSummary): string {
  return `using store ${summary.store}; lock ${summary.lock}; router ${summary.router}; ticks ${summary.ticks.join(" → ")}; telemetry ${summary.telemetry}; audit ${summary.audit}`;
}

function routerOf(config: Config, router: ChosenAdapters["router"]): string {
  if (router === "none" || (router === "configured" && config.router === "none")) return "none";
  if (router === "supplied") return "supplied by the caller";
  const paused = config.faultPauseAfterOrderMs > 0 ? ` with replies held ${config.faultPauseAfterOrderMs} ms (fault injection)` : "";
  if (config.router === "dhan") {
    const limits = `order rate limits ${config.dhanOrderRateLimits}${config.redisUrl ? " shared in redis" : " in process"}`;
    const token = config.dhanAccessTokenFile ? "token from its file" : "token from the setting";
    const slicing = config.dhanFreezeQuantities ? `, sliced above ${config.dhanFreezeQuantities}` : "";
    const feeds = [
      config.dhanOrderUpdateFeed ? `the order update feed ${redactedUrl(config.dhanOrderUpdateUrl)}` : "",
      config.dhanMarketFeed ? `the market feed ${redactedUrl(config.dhanMarketFeedUrl)}` : "",
    ].filter(Boolean);
    return `dhan ${redactedUrl(config.dhanBaseUrl)} (${limits}, ${token}${slicing})${feeds.length > 0 ? ` with ${feeds.join(" and ")}` : ""}${paused}`;
  }
  const faults = [
    config.paperLatencyMs > 0 ? `latency ${config.paperLatencyMs} ms` : "",
    config.paperRejectRate > 0 ? `reject rate ${config.paperRejectRate}` : "",
    config.paperTimeoutRate > 0 ? `timeout rate ${config.paperTimeoutRate}` : "",
    config.paperLostReplyRate > 0 ? `lost reply rate ${config.paperLostReplyRate}` : "",
    config.paperRejectAfterAcceptRate > 0 ? `reject after accept rate ${config.paperRejectAfterAcceptRate}` : "",
    config.paperPartialFillRate > 0 ? `partial fill rate ${config.paperPartialFillRate}` : "",
    config.paperLateFillRate > 0 ? `late fill rate ${config.paperLateFillRate}` : "",
  ].filter(Boolean);
  return `paper${config.redisUrl || config.redisSentinels.length > 0 ? " (order book in redis)" : ""}${faults.length > 0 ? ` with ${faults.join(", ")}, seed ${config.paperSeed}` : ""}${paused}`;
}

function telemetryOf(telemetry: Telemetry): string {
  return telemetry.destinations.length > 0 ? telemetry.destinations.join(", ") : "off";
}

/** The store's Redis without credentials: its URL, or the Sentinels and the master name. */
function storeWhere(config: Config): string {
  if (config.redisSentinels.length === 0) return redactedUrl(config.redisUrl);
  return `sentinel master ${config.redisSentinelMaster} via ${config.redisSentinels.map(redactedUrl).join(",")}`;
}
