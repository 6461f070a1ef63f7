/**
 * The simulator's live market feed v2. A client connects with
 * `?version=2&token=…&clientId=…&authType=2` (anything else is refused at the
 * upgrade with 401), subscribes with JSON messages (RequestCode 15 ticker,
 * 17 quote, 21 full: all answered with ticker packets here; 16 unsubscribes;
 * at most 100 instruments a message, 5,000 a connection, more is answered
 * with the disconnect packet and the socket closed), and receives binary
 * ticker packets. The server pings every `pingIntervalMs` of the simulator's
 * clock and drops a client silent (no pong, no message) for `idleDropMs`.
 */
import type { IncomingMessage } from "node:http";
import type { WebSocket, WebSocketServer } from "ws";
import {
  encodeDisconnectPacket,
  encodeTickerPacket,
  FEED_REQUEST,
  MAX_INSTRUMENTS_PER_CONNECTION,
  MAX_INSTRUMENTS_PER_MESSAGE,
  segmentOfFeedName,
} from "../ticks/dhan-feed-packets.js";
import type { SimAccount } from "./sim-account.js";
import type { SimClock } from "./sim-clock.js";

/** Reason of the disconnect packet for a connection over its instrument limit (the simulator's choice). */
export const TOO_MANY_INSTRUMENTS = 805;

interface FeedClient {
  readonly instruments: Set<string>;
  lastHeardMs: number;
}

export interface MarketFeedTiming {
  readonly pingIntervalMs: number;
  readonly idleDropMs: number;
}

export class SimMarketFeed {
  private readonly clientsBySocket = new Map<WebSocket, FeedClient>();
  private lastPingMs: number;
  ticksSent = 0;
  /** Pongs heard from clients, in total. */
  pongs = 0;
  down = false;

  constructor(
    private readonly server: WebSocketServer,
    private readonly account: SimAccount,
    private readonly clock: SimClock,
    private readonly timing: MarketFeedTiming = { pingIntervalMs: 10_000, idleDropMs: 40_000 },
  ) {
    this.lastPingMs = clock.now();
    server.on("connection", (socket) => this.accept(socket));
  }

  /** Whether an upgrade request may connect: its query is the documented one, with a live token. */
  admits(request: IncomingMessage): boolean {
    if (this.down) return false;
    const query = new URL(request.url ?? "/", "http://sim").searchParams;
    return (
      query.get("version") === "2" &&
      query.get("authType") === "2" &&
      query.get("clientId") === this.account.clientId &&
      this.account.accepts(query.get("token") ?? undefined)
    );
  }

  get clients(): number {
    return this.clientsBySocket.size;
  }

  /** Every instrument some client is subscribed to, as `SEGMENT:securityId`. */
  subscribed(): Set<string> {
    const all = new Set<string>();
    for (const client of this.clientsBySocket.values()) for (const key of client.instruments) all.add(key);
    return all;
  }

  /** Sends a ticker packet to every client subscribed to the instrument. */
  tick(segmentName: string, securityId: string, ltp: string, timeMs: number): void {
    const segment = segmentOfFeedName(segmentName);
    if (segment === undefined || this.down) return;
    const key = `${segmentName}:${securityId}`;
    const packet = encodeTickerPacket(segment, Number(securityId), ltp, Math.floor(timeMs / 1000));
    for (const [socket, client] of this.clientsBySocket) {
      if (!client.instruments.has(key)) continue;
      socket.send(packet);
      this.ticksSent++;
    }
  }

  /** Pings every client when a ping is due and drops the silent ones; run on every step of the clock. */
  keepAlive(): void {
    const now = this.clock.now();
    for (const [socket, client] of this.clientsBySocket) {
      if (now - client.lastHeardMs > this.timing.idleDropMs) socket.terminate();
    }
    if (now - this.lastPingMs < this.timing.pingIntervalMs) return;
    this.lastPingMs = now;
    for (const socket of this.clientsBySocket.keys()) socket.ping();
  }

  dropAll(): void {
    for (const socket of this.server.clients) socket.terminate();
  }

  private accept(socket: WebSocket): void {
    const client: FeedClient = { instruments: new Set(), lastHeardMs: this.clock.now() };
    this.clientsBySocket.set(socket, client);
    const heard = () => {
      client.lastHeardMs = this.clock.now();
    };
    socket.on("pong", () => {
      this.pongs++;
      heard();
    });
    socket.on("message", (data, isBinary) => {
      heard();
      if (!isBinary) this.request(socket, client, String(data));
    });
    socket.on("close", () => this.clientsBySocket.delete(socket));
    socket.on("error", () => socket.terminate());
  }

  private request(socket: WebSocket, client: FeedClient, text: string): void {
    let message: { RequestCode?: unknown; InstrumentList?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.RequestCode === FEED_REQUEST.disconnect) {
      socket.close(1000, "disconnect requested");
      return;
    }
    const list = Array.isArray(message.InstrumentList)
      ? (message.InstrumentList as { ExchangeSegment?: unknown; SecurityId?: unknown }[])
      : [];
    if (list.length > MAX_INSTRUMENTS_PER_MESSAGE) return;
    const keys = list
      .filter((entry) => segmentOfFeedName(String(entry.ExchangeSegment)) !== undefined)
      .map((entry) => `${String(entry.ExchangeSegment)}:${String(entry.SecurityId)}`);
    if (message.RequestCode === FEED_REQUEST.unsubscribeTicker) {
      for (const key of keys) client.instruments.delete(key);
      return;
    }
    const subscribes = [FEED_REQUEST.subscribeTicker, FEED_REQUEST.subscribeQuote, FEED_REQUEST.subscribeFull] as number[];
    if (!subscribes.includes(Number(message.RequestCode))) return;
    for (const key of keys) client.instruments.add(key);
    if (client.instruments.size > MAX_INSTRUMENTS_PER_CONNECTION) {
      socket.send(encodeDisconnectPacket(TOO_MANY_INSTRUMENTS));
      socket.close(1008, "too many instruments");
    }
  }
}
