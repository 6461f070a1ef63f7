/**
 * The order router the configuration names, for the composition root: the
 * paper market (its faults, seed and expiry from the `--paper-*` settings;
 * its book shared through Redis when one is configured), the Dhan v2 router
 * (its token reloadable, its order rate limits shared through Redis when one
 * is configured, its freeze quantities), or none.
 */
import { type Config, ConfigError, envNameOf } from "./config.js";
import type { Clock, ExitLog, OrderRouter } from "./exit/ports.js";
import { DhanAccessToken } from "./router/dhan-access-token.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter } from "./router/dhan-router.js";
import { parseFreezeLimits } from "./router/dhan-slices.js";
import { MemoryOrderRateLimiter, type OrderRateLimiter, parseRateWindows, type RateWindow } from "./router/order-rate-limit.js";
import type { PaperOrderBook } from "./router/paper-order-book.js";
import { PaperRouter } from "./router/paper-router.js";

export interface RouterContext {
  readonly clock: Clock;
  readonly log: ExitLog;
  /** The shared paper order book (Redis), when there is one. */
  readonly orderBook: PaperOrderBook | undefined;
  /** The Dhan access token (dhanAccessTokenFromConfig), when the router is Dhan. */
  readonly dhanToken?: DhanAccessToken | undefined;
  /** Order rate limits shared by every process (Redis), keyed by account, when there is a Redis. */
  readonly sharedRateLimiter?: ((key: string, windows: readonly RateWindow[]) => OrderRateLimiter) | undefined;
  /** Key prefix of shared state. */
  readonly keyPrefix?: string;
}

/** The Dhan access token the configuration names: the token file when set, else the token itself. */
export function dhanAccessTokenFromConfig(config: Config, log: ExitLog, clock: Clock): DhanAccessToken {
  try {
    return new DhanAccessToken(config.dhanAccessToken, {
      ...(config.dhanAccessTokenFile ? { file: config.dhanAccessTokenFile } : {}),
      log,
      now: () => clock.now(),
      warnBeforeMs: config.dhanTokenWarnBeforeMs,
    });
  } catch (error) {
    throw new ConfigError(`${envNameOf("dhan-access-token-file")}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function routerFromConfig(config: Config, context: RouterContext): OrderRouter | undefined {
  if (config.router === "none") return undefined;
  if (config.router === "dhan") {
    const windows = parseRateWindows(config.dhanOrderRateLimits);
    const key = `${context.keyPrefix ?? "tc:"}dhan:orders:${config.dhanClientId}`;
    return new DhanRouter(
      {
        ...DEFAULT_DHAN_SETTINGS,
        baseUrl: config.dhanBaseUrl,
        clientId: config.dhanClientId,
        accessToken: context.dhanToken ?? dhanAccessTokenFromConfig(config, context.log, context.clock),
        productType: config.dhanProductType,
        rateLimiter: context.sharedRateLimiter?.(key, windows) ?? new MemoryOrderRateLimiter(windows),
        freezeLimits: parseFreezeLimits(config.dhanFreezeQuantities),
      },
      context.clock,
      context.log,
    );
  }
  return new PaperRouter({
    faults: {
      latencyMs: config.paperLatencyMs,
      rejectRate: config.paperRejectRate,
      timeoutRate: config.paperTimeoutRate,
      lostReplyRate: config.paperLostReplyRate,
      rejectAfterAcceptRate: config.paperRejectAfterAcceptRate,
      partialFillRate: config.paperPartialFillRate,
      lateFillRate: config.paperLateFillRate,
      lateMs: config.paperLateMs,
    },
    seed: config.paperSeed,
    expireAfterMs: config.paperOrderExpiryMs,
    now: () => context.clock.now(),
    log: context.log,
    ...(context.orderBook ? { orderBook: context.orderBook } : {}),
  });
}
