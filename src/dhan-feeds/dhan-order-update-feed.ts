/**
 * Dhan's live order update feed, consumed by tradingcore itself: every alert
 * for one of our exit orders goes through the order update path (the one
 * ApplyOrderUpdate uses), so fills and late rejections reach the trackers
 * whether or not a strategy is running. After every (re)connection the live
 * exit orders are looked up, since alerts sent while disconnected are lost.
 *
 * A refusal (a rejection after acceptance, a cancellation) of an order an exit
 * of this process is still waiting on is left to that exit to answer, as its
 * own look-ups are; any other refusal is owed to the reconciler, which exits
 * the residual again, as for ApplyOrderUpdate.
 *
 * An alert for one slice of a sliced exit (`<attempt>s1`, …) is ours: it is
 * passed on like any other and wakes the exit waiting on the attempt.
 *
 * Guarantees: alerts are applied one at a time in arrival order; an alert for
 * another order of the account (an entry, a manual trade) is counted and
 * dropped, never parked; one that cannot be read is logged at error level
 * and the look-ups settle that order instead; the token is read for every
 * login and never logged.
 */
import { attemptOfSlice } from "../domain/exit-correlation-id.js";
import type { ExitLog, OrderUpdateSink } from "../exit/ports.js";
import { orderFeedLogin, readOrderAlert } from "../router/dhan-order-alert.js";
import { ReconnectingSocket } from "./reconnecting-socket.js";

export interface DhanOrderUpdateFeedSettings {
  readonly url: string;
  readonly clientId: string;
  readonly token: () => string;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly silenceMs: number;
  readonly pingIntervalMs: number;
}

export interface OrderUpdateFeedCounters {
  alerts: number;
  applied: number;
  /** Alerts for one slice of a sliced exit: never applied by themselves, they wake the exit waiting on the attempt. */
  slices: number;
  foreign: number;
  unreadable: number;
  recoveries: number;
}

export class DhanOrderUpdateFeed {
  readonly counters: OrderUpdateFeedCounters = { alerts: 0, applied: 0, slices: 0, foreign: 0, unreadable: 0, recoveries: 0 };
  private readonly socket: ReconnectingSocket;
  private queue: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(
    settings: DhanOrderUpdateFeedSettings,
    private readonly updates: OrderUpdateSink,
    /** Looks up the live exit orders; run after every connection. */
    private readonly recover: (signal: AbortSignal) => Promise<number>,
    private readonly now: () => number,
    private readonly log: ExitLog,
    /** True while an exit of this process waits on the correlation id's order. */
    private readonly exitWaiting: (correlationId: string) => boolean = () => false,
  ) {
    this.socket = new ReconnectingSocket({
      name: "Dhan order update feed",
      url: () => settings.url,
      onOpen: (socket) => {
        socket.send(orderFeedLogin(settings.clientId, settings.token()));
        this.enqueue(() => this.recoverMissed());
      },
      onMessage: (data, isBinary) => {
        if (!isBinary) this.enqueue(() => this.receive(data.toString("utf8")));
      },
      reconnectInitialMs: settings.reconnectInitialMs,
      reconnectMaxMs: settings.reconnectMaxMs,
      silenceMs: settings.silenceMs,
      pingIntervalMs: settings.pingIntervalMs,
      log,
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Connections opened so far. */
  get opens(): number {
    return this.socket.opens;
  }

  start(): void {
    this.socket.start();
  }

  /** Stops the feed; alerts already received are applied first. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error("stopping"));
    await this.socket.stop();
    await this.queue;
  }

  /** Resolves once every alert received so far has been applied (for tests and shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        "Dhan order update not applied; the look-ups will settle it",
      );
    });
  }

  private async receive(text: string): Promise<void> {
    const reading = readOrderAlert(text, this.now());
    if (reading.kind === "other") return;
    this.counters.alerts++;
    if (reading.kind === "foreign") {
      this.counters.foreign++;
      return;
    }
    if (reading.kind === "invalid") {
      this.counters.unreadable++;
      this.log.error({ why: reading.why, excerpt: text.slice(0, 200) }, "Dhan order update unreadable; the look-ups will settle its order");
      return;
    }
    const attempt = attemptOfSlice(reading.update.correlationId);
    if (attempt) this.counters.slices++;
    // A slice's exit waits on the attempt's correlation id, not the slice's.
    const owe = !this.exitWaiting(attempt ?? reading.update.correlationId);
    const result = (await this.updates.apply(reading.update, { owe })) as { applied?: boolean } | undefined;
    if (result?.applied) this.counters.applied++;
  }

  private async recoverMissed(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const found = await this.recover(this.stopping.signal);
    this.counters.recoveries++;
    this.log.info({ found }, "Dhan order update feed connected; live exit orders looked up");
  }
}
