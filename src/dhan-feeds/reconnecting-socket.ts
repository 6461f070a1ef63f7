/**
 * One WebSocket kept open for as long as it is wanted: reconnected after
 * every close with a growing, jittered delay (reset once a connection has
 * stayed open `stableMs`, so a server that accepts and at once refuses — a
 * login with an expired token — is not hammered),
 * and replaced when it goes silent — no message, ping or pong for `silenceMs`
 * — since a half-open TCP connection can look alive for many minutes.
 *
 * Silence and backoff are measured on the wall clock: they are about the
 * network, not about the exit's injectable clock.
 *
 * The client is the `ws` package rather than Node's built-in WebSocket: the
 * built-in one neither shows ping frames nor sends them, so it could not tell
 * a quiet feed (the order update feed is silent while no order changes) from
 * a dead one; `ws` does both, and the simulator serves with it anyway.
 */
import WebSocket from "ws";
import type { ExitLog } from "../exit/ports.js";

export interface ReconnectingSocketOptions {
  /** For logs: "order update feed", "market feed". */
  readonly name: string;
  /** The URL of the next attempt (read each time: a token in it may have been renewed). */
  readonly url: () => string;
  /** Called on every open, the first and each reconnection: log in, subscribe, recover. */
  readonly onOpen: (socket: WebSocket) => void;
  readonly onMessage: (data: Buffer, isBinary: boolean) => void;
  readonly onClose?: () => void;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  /** No frame at all for this long: the connection is given up and replaced, ms. */
  readonly silenceMs: number;
  /** A connection open this long counts as working: the next delay starts from the initial one again, ms. */
  readonly stableMs?: number;
  /** Pings of our own this often, so that a quiet but live server still answers (pongs), ms; none when absent. */
  readonly pingIntervalMs?: number;
  readonly log: ExitLog;
}

const DEFAULT_STABLE_MS = 5_000;

export class ReconnectingSocket {
  private socket: WebSocket | undefined;
  private stopped = true;
  private delayMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private lastHeardMs = 0;
  private openedAtMs = 0;
  /** Connections opened, in total (the first one included). */
  opens = 0;
  /** Connections given up because they went silent. */
  silences = 0;

  constructor(private readonly options: ReconnectingSocketOptions) {
    this.delayMs = options.reconnectInitialMs;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
    const every = Math.max(10, Math.min(this.options.silenceMs, this.options.pingIntervalMs ?? this.options.silenceMs) / 4);
    this.watchTimer = setInterval(() => this.watch(), every);
    this.watchTimer.unref();
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.watchTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.terminate();
    });
  }

  send(data: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(data);
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.options.url(), { handshakeTimeout: this.options.silenceMs });
    this.socket = socket;
    this.lastHeardMs = Date.now();
    const heard = () => {
      this.lastHeardMs = Date.now();
    };
    socket.on("open", () => {
      heard();
      this.opens++;
      this.openedAtMs = Date.now();
      if (this.opens > 1) this.options.log.info({ feed: this.options.name, opens: this.opens }, `${this.options.name} reconnected`);
      this.options.onOpen(socket);
    });
    socket.on("message", (data, isBinary) => {
      heard();
      this.options.onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary);
    });
    socket.on("ping", heard);
    socket.on("pong", heard);
    // The error is followed by a close, which reconnects; the message is all that is worth keeping.
    socket.on("error", (error) =>
      this.options.log.warn({ feed: this.options.name, err: withoutToken(error.message) }, `${this.options.name} connection error`),
    );
    socket.on("close", (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.options.onClose?.();
      if (this.stopped) return;
      if (this.openedAtMs > 0 && Date.now() - this.openedAtMs >= (this.options.stableMs ?? DEFAULT_STABLE_MS))
        this.delayMs = this.options.reconnectInitialMs;
      this.openedAtMs = 0;
      const delay = Math.round(this.delayMs * (0.8 + Math.random() * 0.4));
      this.delayMs = Math.min(this.delayMs * 2, this.options.reconnectMaxMs);
      // 1008 (policy violation) is the server refusing us, typically the login: a token to renew, not a network blip.
      const level = code === 1008 ? "error" : "warn";
      this.options.log[level](
        { feed: this.options.name, code, reason: reason.toString("utf8").slice(0, 200), reconnectInMs: delay },
        `${this.options.name} closed${code === 1008 ? " by the server's refusal" : ""}; reconnecting`,
      );
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
      this.reconnectTimer.unref();
    });
  }

  /** Pings when one is due and gives up a connection that has gone silent. */
  private watch(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const quietMs = Date.now() - this.lastHeardMs;
    if (quietMs > this.options.silenceMs) {
      this.silences++;
      this.options.log.warn({ feed: this.options.name, quietMs }, `${this.options.name} silent for ${quietMs} ms; reconnecting`);
      socket.terminate();
      return;
    }
    if (this.options.pingIntervalMs !== undefined && quietMs >= this.options.pingIntervalMs) socket.ping();
  }
}

/** An error text with any `token=` query value blanked: the market feed carries the access token in its URL. */
function withoutToken(text: string): string {
  return text.replace(/token=[^&\s]*/gi, "token=…");
}
