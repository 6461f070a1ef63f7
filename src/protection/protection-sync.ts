/**
 * Keeps the book and the stores in step, so that a restarted process, or
 * another one of the fleet, protects with the same levels:
 * - `flush` writes the states that moved (forward-only merge in the store)
 *   and adopts what the store answers, which may be further (another process
 *   saw later ticks);
 * - `refresh` reads every ACTIVE tracker with a plan and its stored state,
 *   watches the ones this process does not know yet, and stops watching the
 *   ones no longer ACTIVE (exited by another process, plan removed).
 * Both run on their own timers after `start`; either may be called directly.
 * A store failure is logged and retried on the next round; the book keeps
 * protecting with what it holds.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitLog, ProtectionStates, TrackerStore } from "../exit/ports.js";
import type { ProtectionBook } from "./protection-book.js";

export interface ProtectionSyncSettings {
  /**
   * Pause between reads of every protected tracker from the store, ms; 0 reads it once, at start.
   * Only a store shared with other processes needs it: with the embedded one, every plan reaches the book through `watch`.
   */
  readonly refreshMs: number;
  /** Pause between writes of the states that moved, ms. */
  readonly flushMs: number;
}

const PAGE = 500;
/** States written per store call: a flush of thousands is a few calls, each bounded in size. */
const FLUSH_BATCH = 500;

export class ProtectionSync {
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly book: ProtectionBook,
    private readonly store: TrackerStore,
    private readonly states: ProtectionStates,
    private readonly log: ExitLog,
    private readonly settings: ProtectionSyncSettings,
  ) {}

  start(): void {
    const every = (ms: number, work: () => Promise<void>) => {
      const timer = setInterval(() => void work(), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.settings.flushMs, () => this.flush());
    if (this.settings.refreshMs > 0) every(this.settings.refreshMs, () => this.refresh());
  }

  /** Stops the timers and writes what moved one last time. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.refreshing;
    await this.flush();
  }

  /** Writes every state that moved since the last flush; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Reads the protected trackers from the store; one refresh at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async flushOnce(): Promise<void> {
    const dirty = this.book.takeDirty();
    for (let from = 0; from < dirty.length; from += FLUSH_BATCH) {
      const batch = dirty.slice(from, from + FLUSH_BATCH);
      const sent = batch.map((watched) => watched.state);
      try {
        const stored = await this.states.advanceMany(
          batch.map((watched, index) => ({ orderNo: watched.tracker.orderNo, side: watched.tracker.side, state: sent[index]! })),
        );
        // The store answers what it sent back when it had nothing further (the common case): nothing to merge then.
        for (let index = 0; index < batch.length; index++) {
          if (stored[index] !== sent[index]) this.book.adopt(batch[index]!, stored[index]!);
        }
      } catch (error) {
        for (const watched of batch) this.book.markDirty(watched);
        this.log.warn(
          { err: error, trackers: batch.length, orderNo: batch[0]!.tracker.orderNo },
          "protection states not stored; retried on the next flush",
        );
      }
    }
  }

  private async refreshOnce(): Promise<void> {
    try {
      const before = new Set(this.book.orderNos());
      const active: TrackerRecord[] = [];
      let after: string | undefined;
      do {
        const page = await this.store.list({ status: TrackerStatus.ACTIVE }, { ...(after === undefined ? {} : { after }), limit: PAGE });
        for (const tracker of page.trackers) if (tracker.exitPlan) active.push(tracker);
        after = page.nextCursor;
      } while (after !== undefined);
      const stored = await this.states.get(active.map((tracker) => tracker.orderNo));
      for (const tracker of active) {
        before.delete(tracker.orderNo);
        this.book.watch(tracker, stored.get(tracker.orderNo));
      }
      // Watched before this read began and no longer ACTIVE with a plan: settled elsewhere.
      for (const orderNo of before) {
        if (!this.book.get(orderNo)?.firing) this.book.unwatch(orderNo);
      }
    } catch (error) {
      this.log.warn({ err: error }, "protected trackers not read from the store; retried on the next refresh");
    }
  }
}
