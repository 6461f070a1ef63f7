/**
 * Dhan's live market feed as a tick source beside PublishTicks: it
 * subscribes to the instruments of the open trackers (ACTIVE and EXITING,
 * looked at again every `refreshMs`) and writes every ticker packet into the
 * same tick sink PublishTicks writes to, so the tick caches, GetLtp and the
 * exits' prices see them. This keeps prices alive when the strategy is gone.
 *
 * Guarantees: the float32 on the wire becomes a decimal only after rounding
 * to the instrument's tick size (101.55 arrives as 101.55000305…); a price
 * that rounds to zero or below is dropped; at most 100 instruments a
 * subscription message and 5,000 a connection (beyond that an error log
 * names how many were left out); after a reconnection everything is
 * subscribed again. A tick is stamped with the time it was received: the
 * packet's trade time is when the instrument last traded, which for a quiet
 * instrument can be long before the price was seen.
 */
import type { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../domain/money.js";
import type { ExitLog, InstrumentKey } from "../exit/ports.js";
import {
  decodeFeedPacket,
  FEED_REQUEST,
  feedSegmentName,
  MAX_INSTRUMENTS_PER_CONNECTION,
  subscriptionMessages,
} from "../ticks/dhan-feed-packets.js";
import type { TickSink } from "../ticks/tick.js";
import { ReconnectingSocket } from "./reconnecting-socket.js";

export interface DhanMarketFeedSettings {
  /** wss://api-feed.dhan.co; the query (version, token, clientId, authType) is added. */
  readonly url: string;
  readonly clientId: string;
  readonly token: () => string;
  /** How often the open trackers' instruments are looked at again, ms. */
  readonly refreshMs: number;
  readonly tickSizes: TickSizes;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly silenceMs: number;
}

/** The tick size of an instrument: its own, else its segment's, else the default. */
export interface TickSizes {
  readonly defaultSize: Money;
  /** Keys `SEGMENT` or `SEGMENT:securityId`, with Dhan's segment names (NSE_EQ, MCX_COMM, …). */
  readonly overrides: ReadonlyMap<string, Money>;
}

export function tickSizeOf(sizes: TickSizes, segment: Segment, securityId: string): Money {
  const name = feedSegmentName(segment) ?? "";
  return sizes.overrides.get(`${name}:${securityId}`) ?? sizes.overrides.get(name) ?? sizes.defaultSize;
}

/** The wire's float32 as a price: the nearest multiple of the tick size, exactly. */
export function priceOfFloat32(ltp: number, tickSize: Money): Money | undefined {
  if (!Number.isFinite(ltp)) return undefined;
  const price = new Money(ltp).toNearest(tickSize);
  return price.greaterThan(0) ? price : undefined;
}

const keyOf = (instrument: InstrumentKey) => `${instrument.segment}:${instrument.securityId}`;

export class DhanMarketFeed {
  ticks = 0;
  private readonly socket: ReconnectingSocket;
  private subscribed = new Map<string, InstrumentKey>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private warnedOverflow = 0;

  constructor(
    private readonly settings: DhanMarketFeedSettings,
    private readonly sink: TickSink,
    /** The instruments of the open trackers. */
    private readonly instruments: () => Promise<InstrumentKey[]>,
    private readonly now: () => number,
    private readonly log: ExitLog,
  ) {
    this.socket = new ReconnectingSocket({
      name: "Dhan market feed",
      url: () => {
        const url = new URL(settings.url);
        url.searchParams.set("version", "2");
        url.searchParams.set("token", settings.token());
        url.searchParams.set("clientId", settings.clientId);
        url.searchParams.set("authType", "2");
        return url.toString();
      },
      onOpen: () => {
        this.subscribed = new Map();
        this.refresh();
      },
      onMessage: (data, isBinary) => {
        if (isBinary) this.receive(data);
      },
      reconnectInitialMs: settings.reconnectInitialMs,
      reconnectMaxMs: settings.reconnectMaxMs,
      silenceMs: settings.silenceMs,
      log,
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  get opens(): number {
    return this.socket.opens;
  }

  /** Instruments subscribed on the current connection. */
  get subscriptions(): number {
    return this.subscribed.size;
  }

  start(): void {
    this.socket.start();
    this.refreshTimer = setInterval(() => this.refresh(), this.settings.refreshMs);
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.socket.stop();
    await this.refreshing;
  }

  /** Subscribes the open trackers' instruments not subscribed yet and unsubscribes the closed ones' (one refresh at a time). */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing
      .then(() => this.resubscribe())
      .catch((error: unknown) => {
        this.log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "Dhan market feed: open trackers not read; next refresh tries again",
        );
      });
    return this.refreshing;
  }

  private async resubscribe(): Promise<void> {
    if (!this.socket.connected) return;
    const wanted = new Map<string, InstrumentKey>();
    for (const instrument of await this.instruments()) if (feedSegmentName(instrument.segment)) wanted.set(keyOf(instrument), instrument);
    const gone = [...this.subscribed].filter(([key]) => !wanted.has(key)).map(([, instrument]) => instrument);
    const room = MAX_INSTRUMENTS_PER_CONNECTION - (this.subscribed.size - gone.length);
    const fresh = [...wanted].filter(([key]) => !this.subscribed.has(key));
    const added = fresh.slice(0, Math.max(0, room));
    if (fresh.length > added.length && this.warnedOverflow !== fresh.length - added.length) {
      this.warnedOverflow = fresh.length - added.length;
      this.log.error(
        { leftOut: this.warnedOverflow, limit: MAX_INSTRUMENTS_PER_CONNECTION },
        "Dhan market feed: more open instruments than one connection carries; the rest get no feed ticks",
      );
    }
    for (const message of subscriptionMessages(FEED_REQUEST.unsubscribeTicker, gone)) this.socket.send(message);
    for (const instrument of gone) this.subscribed.delete(keyOf(instrument));
    for (const message of subscriptionMessages(
      FEED_REQUEST.subscribeTicker,
      added.map(([, instrument]) => instrument),
    ))
      this.socket.send(message);
    for (const [key, instrument] of added) this.subscribed.set(key, instrument);
  }

  private receive(data: Buffer): void {
    const packet = decodeFeedPacket(data);
    if (packet.kind === "disconnect") {
      this.log.warn({ reason: packet.reason }, "Dhan market feed: the server disconnects");
      return;
    }
    if (packet.kind !== "ticker") return;
    const ltp = priceOfFloat32(packet.ltp, tickSizeOf(this.settings.tickSizes, packet.segment, packet.securityId));
    if (!ltp) return;
    this.ticks++;
    this.sink.write([{ segment: packet.segment, securityId: packet.securityId, ltp, timeMs: this.now() }]);
  }
}
