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
import { mergeProtectionState } from "./protection-state-merge.js";
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
    await Promise.all(
      dirty.map(async (watched) => {
        try {
          const stored = await this.states.advance(watched.tracker.orderNo, watched.tracker.side, watched.state);
          watched.state = mergeProtectionState(stored, watched.state, watched.tracker.side);
        } catch (error) {
          watched.dirty = true;
          this.log.warn({ err: error, orderNo: watched.tracker.orderNo }, "protection state not stored; retried on the next flush");
        }
      }),
    );
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
