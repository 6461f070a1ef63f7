/**
 * The Dhan feeds the configuration asks for (`--dhan-order-update-feed`,
 * `--dhan-market-feed`; only with `--router dhan`), wired to the order update
 * path and the tick sink PublishTicks uses. Called by the composition root.
 */
import { TrackerStatus } from "../gen/tradingcore/v1/common_pb.js";
import type { Config } from "./config.js";
import { DhanMarketFeed } from "./dhan-feeds/dhan-market-feed.js";
import { DhanOrderUpdateFeed } from "./dhan-feeds/dhan-order-update-feed.js";
import { Money } from "./domain/money.js";
import { refreshLiveExitOrders } from "./exit/live-exit-orders.js";
import type { Clock, ExitLog, InstrumentKey, OrderRouter, OrderUpdateSink, TrackerStore } from "./exit/ports.js";
import type { TickSink } from "./ticks/tick.js";

export interface DhanFeeds {
  readonly orderUpdates: DhanOrderUpdateFeed | undefined;
  readonly market: DhanMarketFeed | undefined;
  start(): void;
  stop(): Promise<void>;
}

export interface DhanFeedPorts {
  readonly store: TrackerStore;
  readonly router: OrderRouter | undefined;
  readonly updates: OrderUpdateSink;
  readonly ticks: TickSink;
  readonly clock: Clock;
  readonly log: ExitLog;
  /** True while an exit of this process waits on the correlation id's order (it answers a refusal itself). */
  readonly exitWaiting?: (correlationId: string) => boolean;
  /** The access token now (read at every login, so a renewed token is used on the next connection). */
  readonly token?: () => string;
}

const RECONNECT_INITIAL_MS = 250;
/** Our own pings on the order update feed, which is silent while no order changes: a third of the silence allowed. */
const pingIntervalOf = (silenceMs: number) => Math.max(50, Math.floor(silenceMs / 3));

export function dhanFeedsFromConfig(config: Config, ports: DhanFeedPorts): DhanFeeds | undefined {
  if (config.router !== "dhan" || (!config.dhanOrderUpdateFeed && !config.dhanMarketFeed)) return undefined;
  const token = ports.token ?? (() => config.dhanAccessToken);
  const now = () => ports.clock.now();
  const reconnect = {
    reconnectInitialMs: RECONNECT_INITIAL_MS,
    reconnectMaxMs: config.dhanFeedReconnectMaxMs,
    silenceMs: config.dhanFeedSilenceMs,
  };
  const router = ports.router;
  const orderUpdates =
    config.dhanOrderUpdateFeed && router
      ? new DhanOrderUpdateFeed(
          {
            url: config.dhanOrderUpdateUrl,
            clientId: config.dhanClientId,
            token,
            pingIntervalMs: pingIntervalOf(config.dhanFeedSilenceMs),
            ...reconnect,
          },
          ports.updates,
          (signal) =>
            refreshLiveExitOrders({ store: ports.store, router, updates: ports.updates, clock: ports.clock, log: ports.log }, signal),
          now,
          ports.log,
          ports.exitWaiting,
        )
      : undefined;
  const market = config.dhanMarketFeed
    ? new DhanMarketFeed(
        {
          url: config.dhanMarketFeedUrl,
          clientId: config.dhanClientId,
          token,
          refreshMs: config.dhanMarketFeedRefreshMs,
          tickSizes: {
            defaultSize: new Money(config.dhanTickSize),
            overrides: new Map(config.dhanTickSizes.map(([key, size]) => [key, new Money(size)])),
          },
          ...reconnect,
        },
        ports.ticks,
        () => openInstruments(ports.store),
        now,
        ports.log,
      )
    : undefined;
  return {
    orderUpdates,
    market,
    start() {
      orderUpdates?.start();
      market?.start();
    },
    async stop() {
      await Promise.all([orderUpdates?.stop(), market?.stop()]);
    },
  };
}

/** The instruments of every ACTIVE and EXITING tracker, each once. */
async function openInstruments(store: TrackerStore): Promise<InstrumentKey[]> {
  const instruments = new Map<string, InstrumentKey>();
  for (const status of [TrackerStatus.ACTIVE, TrackerStatus.EXITING]) {
    let after: string | undefined;
    do {
      const page = await store.list({ status }, { limit: 500, ...(after === undefined ? {} : { after }) });
      for (const tracker of page.trackers)
        instruments.set(`${tracker.segment}:${tracker.securityId}`, { segment: tracker.segment, securityId: tracker.securityId });
      after = page.nextCursor;
    } while (after !== undefined);
  }
  return [...instruments.values()];
}
