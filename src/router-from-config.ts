/**
 * The order router the configuration names, for the composition root: the
 * paper market (its faults, seed and expiry from the `--paper-*` settings;
 * its book shared through Redis when one is configured), the Dhan v2 router,
 * or none.
 */
import type { Config } from "./config.js";
import type { Clock, ExitLog, OrderRouter } from "./exit/ports.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter } from "./router/dhan-router.js";
import type { PaperOrderBook } from "./router/paper-order-book.js";
import { PaperRouter } from "./router/paper-router.js";

export interface RouterContext {
  readonly clock: Clock;
  readonly log: ExitLog;
  /** The shared paper order book (Redis), when there is one. */
  readonly orderBook: PaperOrderBook | undefined;
}

export function routerFromConfig(config: Config, context: RouterContext): OrderRouter | undefined {
  if (config.router === "none") return undefined;
  if (config.router === "dhan") {
    return new DhanRouter(
      {
        ...DEFAULT_DHAN_SETTINGS,
        baseUrl: config.dhanBaseUrl,
        clientId: config.dhanClientId,
        accessToken: config.dhanAccessToken,
        productType: config.dhanProductType,
      },
      () => context.clock.now(),
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
