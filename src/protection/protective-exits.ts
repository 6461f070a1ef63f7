/**
 * Protective exits assembled: the book that evaluates ticks, the worker that
 * runs the exits they fire, the sync that keeps both in step with the
 * stores. main.ts builds one on the tick cache, whose ticks the book subscribes to.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitTrigger, ProtectionState } from "../domain/exit-plan.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitEngine } from "../exit/exit-engine.js";
import type { Clock, ExitEventSink, ExitLog, ProtectionStates, TrackerStore } from "../exit/ports.js";
import { ProtectionBook, type WatchedTracker } from "./protection-book.js";
import type { TickSubscriptions } from "../ticks/tick.js";
import type { ProtectionChangeLog } from "./protection-change-log.js";
import { mergeProtectionState } from "./protection-state-merge.js";
import { ProtectionSync, type ProtectionSyncSettings } from "./protection-sync.js";
import { TriggerWorker, type TriggerWorkerSettings } from "./trigger-worker.js";

export interface ProtectiveExitsSettings extends ProtectionSyncSettings, TriggerWorkerSettings {
  readonly staleAfterMs: number;
}

export interface ProtectiveExitsDeps {
  readonly engine: Pick<ExitEngine, "execute">;
  readonly store: TrackerStore;
  readonly states: ProtectionStates;
  /** Where the store logs what other processes changed; absent: every refresh reads every protected tracker. */
  readonly changes?: ProtectionChangeLog;
  readonly events: ExitEventSink;
  readonly clock: Clock;
  readonly log: ExitLog;
  /** The ticks the book evaluates; absent: they are handed to `book.write`. */
  readonly ticks?: TickSubscriptions;
}

export class ProtectiveExits {
  readonly book: ProtectionBook;
  readonly worker: TriggerWorker;
  readonly sync: ProtectionSync;
  private readonly states: ProtectionStates;

  constructor(deps: ProtectiveExitsDeps, settings: ProtectiveExitsSettings) {
    this.worker = new TriggerWorker({ ...deps, book: () => this.book }, settings);
    this.book = new ProtectionBook(
      { staleAfterMs: settings.staleAfterMs },
      () => deps.clock.now(),
      (watched, trigger) => this.submit(watched, trigger),
      (watched, state) => this.sync.retire(watched, state),
      deps.ticks,
    );
    this.sync = new ProtectionSync(this.book, deps.store, deps.states, deps.log, settings, deps.changes);
    this.states = deps.states;
  }

  /**
   * Where a tracker's protection stands: this process's own state while it protects the tracker (every
   * tick taken, not only those written), moved forward by the store's (another process may be further),
   * else the store's.
   */
  async stateOf(tracker: Pick<TrackerRecord, "orderNo" | "side">): Promise<ProtectionState | undefined> {
    const stored = (await this.states.get([tracker.orderNo])).get(tracker.orderNo);
    const live = this.book.get(tracker.orderNo)?.state;
    return live ? mergeProtectionState(stored, live, tracker.side) : stored;
  }

  /** Protects a tracker whose plan was set or changed here, from the next tick on (an ACTIVE one; others wait for a refresh). */
  watch(tracker: TrackerRecord): void {
    if (tracker.status === TrackerStatus.ACTIVE) this.book.watch(tracker);
    else this.book.unwatch(tracker.orderNo);
  }

  /** Loads what the store protects, then keeps in step with it. */
  async start(): Promise<void> {
    await this.sync.refresh();
    this.sync.start();
  }

  /** Stops the timers, lets the exits already started finish, writes the states that moved. */
  async stop(): Promise<void> {
    await this.worker.whenIdle();
    await this.sync.stop();
  }

  private submit(watched: WatchedTracker, trigger: ExitTrigger): boolean {
    return this.worker.submit(watched, trigger);
  }
}
