/**
 * Graceful shutdown as call middleware, the same on every engine.
 *
 * Order of a shutdown (the composition root drives it):
 * 1. `refuseNewCalls()`: every call that starts from now on answers
 *    UNAVAILABLE ("shutting down"); calls already running go on.
 * 2. `settle(graceMs)`: resolves once every running call that does work
 *    (ExecuteExit, ExitAll, every unary call) has finished, or when the grace
 *    period ends, whichever is first. An exit is never cut off here: the
 *    handler runs to its end; the bound is only on how long shutdown waits.
 * 3. `closeStreams()`: every subscription still open (StreamLtp, WatchExits,
 *    health Watch, reflection: streams with no end of their own) ends with
 *    UNAVAILABLE and a message saying the server is shutting down, so a
 *    client knows to reconnect elsewhere.
 */
import { TradingCoreError } from "../../domain/trading-core-error.js";
import type { CallMiddleware } from "../../rpc/call-middleware.js";

const SHUTTING_DOWN = "the server is shutting down; retry on another instance or after restart";

export class ShutdownGate {
  private readonly subscriptions: ReadonlySet<string>;
  private refusing = false;
  private readonly running = new Set<Promise<unknown>>();
  private closeAll: (() => void) | undefined;
  private readonly streamsClosed = new Promise<void>((resolve) => (this.closeAll = resolve));

  /** @param subscriptions open-ended streams, as `service/method` (e.g. `tradingcore.v1.TickService/StreamLtp`) */
  constructor(subscriptions: readonly string[]) {
    this.subscriptions = new Set(subscriptions);
  }

  readonly middleware: CallMiddleware = async (call, next) => {
    if (this.refusing) throw new TradingCoreError("unavailable", SHUTTING_DOWN);
    if (this.subscriptions.has(`${call.service}/${call.method}`)) return this.untilClosed(next());
    const done = next();
    this.track(done);
    return done;
  };

  /** Calls that start from now on answer UNAVAILABLE. */
  refuseNewCalls(): void {
    this.refusing = true;
  }

  /** Calls other than subscriptions still running. */
  get runningCalls(): number {
    return this.running.size;
  }

  /** Resolves when no call other than a subscription is running, or after `graceMs`; true when all finished. */
  async settle(graceMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    try {
      while (this.running.size > 0) {
        const finished = await Promise.race([Promise.allSettled([...this.running]).then(() => true as const), expired]);
        if (!finished) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends every open server stream with UNAVAILABLE. */
  closeStreams(): void {
    this.closeAll?.();
  }

  private track(call: Promise<unknown>): void {
    this.running.add(call);
    const forget = () => this.running.delete(call);
    call.then(forget, forget);
  }

  private async untilClosed(stream: Promise<void>): Promise<void> {
    const closed = this.streamsClosed.then(() => "closed" as const);
    const outcome = await Promise.race([stream.then(() => "ended" as const), closed]);
    if (outcome === "closed") {
      stream.catch(() => {}); // the stream ends on its own once the engine has closed the call
      throw new TradingCoreError("unavailable", SHUTTING_DOWN);
    }
  }
}
