/**
 * Keeps the book and the stores in step, so that a restarted process, or
 * another one of the fleet, protects with the same levels:
 * - `flush` writes the states that moved (forward-only merge in the store)
 *   and adopts what the store answers, which may be further (another process
 *   saw later ticks);
 * - `refresh` learns what other processes changed: with a change log
 *   (protection-change-log.ts) it reads the entries after the last one it
 *   saw and re-reads only the trackers they name; without one, or at the
 *   first refresh, or when its position fell out of the capped log, it
 *   reads every ACTIVE tracker with a plan, then goes on from the log's tip
 *   taken before that read (so no change made during it is missed). Either
 *   way it watches what is ACTIVE with a plan, with its stored state, and
 *   stops watching what is not (exited by another process, plan removed).
 * Both run on their own timers after `start`; either may be called directly.
 * A store failure is logged and retried on the next round; the book keeps
 * protecting with what it holds.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitLog, ProtectionStates, TrackerStore } from "../exit/ports.js";
import type { ProtectionState } from "../domain/exit-plan.js";
import type { ProtectionBook, WatchedTracker } from "./protection-book.js";
import type { ChangeLogPosition, ProtectionChange, ProtectionChangeLog } from "./protection-change-log.js";

export interface ProtectionSyncSettings {
  /**
   * Pause between reads of the change log (of every protected tracker, without one), ms; 0 reads the store once, at start.
   * Only a store shared with other processes needs it: with the embedded one, every plan reaches the book through `watch`.
   */
  readonly refreshMs: number;
  /**
   * Pause between writes of the states that moved, ms; 0 writes none on a timer. Only a store that
   * outlives the process or is shared with others needs them: with the embedded one the book is the
   * state (a tracker's is written when it leaves the book, `retire`, and at `stop`).
   */
  readonly flushMs: number;
}

const PAGE = 500;
/** Log entries read per round trip. */
const LOG_PAGE = 1_000;
/** States written per store call: a flush of thousands is a few calls, each bounded in size. */
const FLUSH_BATCH = 500;

export class ProtectionSync {
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  /** The last change log entry applied; undefined until a full read succeeds, and again after a gap. */
  private position: ChangeLogPosition | undefined;
  /**
   * Trackers found settled elsewhere while this process's worker was firing them: read again on the
   * next refresh, since the rest of their way out (EXITING to EXITED) is not in the log.
   */
  private readonly recheck = new Set<string>();

  constructor(
    private readonly book: ProtectionBook,
    private readonly store: TrackerStore,
    private readonly states: ProtectionStates,
    private readonly log: ExitLog,
    private readonly settings: ProtectionSyncSettings,
    private readonly changes?: ProtectionChangeLog,
  ) {}

  start(): void {
    const every = (ms: number, work: () => Promise<void>) => {
      const timer = setInterval(() => void work(), ms);
      timer.unref();
      this.timers.push(timer);
    };
    if (this.settings.flushMs > 0) every(this.settings.flushMs, () => this.flush());
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

  /**
   * Writes the last state of a tracker that left the book (ProtectionBook's `onLeave`), so that it
   * still reads where its trail stood; a failure is logged (the tracker is no longer protected here).
   */
  retire(watched: WatchedTracker, state: ProtectionState): void {
    const { orderNo, side } = watched.rules;
    this.states.advanceMany([{ orderNo, side, state, basis: watched.basis }]).then(
      ([stored]) => {
        watched.basis = stored;
      },
      (error: unknown) => this.log.warn({ err: error, orderNo }, "last protection state of a tracker no longer protected not stored"),
    );
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
          batch.map((watched, index) => ({
            orderNo: watched.tracker.orderNo,
            side: watched.tracker.side,
            state: sent[index]!,
            basis: watched.basis,
          })),
        );
        // The store answers what it sent back when it had nothing further (the common case): nothing to merge then.
        for (let index = 0; index < batch.length; index++) this.book.written(batch[index]!, sent[index]!, stored[index]!);
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
      if (!this.changes) return await this.readAll();
      if (this.position !== undefined) {
        if (await this.follow(this.changes)) return;
        this.log.info({}, "protection change log trimmed past this process's position; reading every protected tracker");
      }
      const tip = await this.changes.tip();
      await this.readAll();
      this.position = tip;
    } catch (error) {
      this.log.warn({ err: error }, "protected trackers not read from the store; retried on the next refresh");
    }
  }

  /** Applies the log's entries after `position`, page by page; false on a gap (nothing more applied). */
  private async follow(changes: ProtectionChangeLog): Promise<boolean> {
    for (;;) {
      const read = await changes.read(this.position!, LOG_PAGE);
      if (read.kind === "gap") {
        this.position = undefined;
        return false;
      }
      await this.reread(read.changes);
      this.position = read.position;
      if (read.changes.length < LOG_PAGE) return true;
    }
  }

  /**
   * Reads the trackers the changes name (once each), unless the book already holds that version or a
   * later one, and those left to recheck.
   */
  private async reread(changes: readonly ProtectionChange[]): Promise<void> {
    const newest = new Map<string, number>();
    for (const orderNo of this.recheck) newest.set(orderNo, Number.MAX_SAFE_INTEGER);
    this.recheck.clear();
    for (const { orderNo, version } of changes) newest.set(orderNo, Math.max(version, newest.get(orderNo) ?? 0));
    const stale = [...newest].filter(([orderNo, version]) => (this.book.get(orderNo)?.tracker.version ?? 0) < version);
    const trackers = await Promise.all(stale.map(([orderNo]) => this.store.get(orderNo)));
    const protectable = trackers.filter((tracker): tracker is TrackerRecord => tracker !== undefined && isProtectable(tracker));
    const stored = await this.states.get(protectable.map((tracker) => tracker.orderNo));
    for (const tracker of protectable) this.book.watch(tracker, stored.get(tracker.orderNo));
    stale.forEach(([orderNo], index) => {
      const tracker = trackers[index];
      if (tracker && isProtectable(tracker)) return;
      const watched = this.book.get(orderNo);
      // A later version: written here after this read, and newer than it.
      if (!watched || watched.tracker.version > (tracker?.version ?? Number.MAX_SAFE_INTEGER)) return;
      // Firing: the worker settles it, unless it loses the claim to the process exiting it; look again then.
      if (watched.firing) this.recheck.add(orderNo);
      else this.book.unwatch(orderNo);
    });
  }

  /** Every ACTIVE tracker with a plan: watched, with its stored state; whatever else the book held is unwatched. */
  private async readAll(): Promise<void> {
    this.recheck.clear();
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
      if (this.book.get(orderNo)?.firing) this.recheck.add(orderNo);
      else this.book.unwatch(orderNo);
    }
  }
}

function isProtectable(tracker: TrackerRecord): boolean {
  return tracker.status === TrackerStatus.ACTIVE && tracker.exitPlan !== undefined;
}
