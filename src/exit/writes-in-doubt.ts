/**
 * Tracker writes whose outcome is unknown: the store threw after the write
 * was sent (a primary that died before its reply, a command timeout), so it
 * may have been applied. The store is the record of what happened, so the
 * event of an applied write must reach the trail: it is published once the
 * store is seen holding the write, and the write is forgotten once the store
 * is seen without it.
 *
 * Invariants:
 * - A held write's event is published at most once, and only when a read
 *   shows the write: the stored tracker at the write's version with its
 *   update time, fencing token, status and attempt; or, once later writes
 *   followed, the marks they keep (an intent's attempt and request time, an
 *   EXITED's attempt and exit time: EXITED is final).
 * - A read showing another write at that version, or the tracker gone,
 *   forgets the held write and publishes nothing: it was not applied.
 * - A read showing the version before the write keeps it held: the store
 *   may not have answered for it yet.
 * - At most `MAX_HELD` writes are held, each for `HOLD_MS` at most; one
 *   dropped unsettled is logged as an error. They live in this process's
 *   memory: a process killed meanwhile loses them, as it loses queued events.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { Clock, CompareAndSetOutcome, ExitEventRecord, ExitEventSink, ExitLog, TrackerStore } from "./ports.js";

/** How long a write stays in doubt before it is dropped unsettled, ms. */
export const HOLD_MS = 600_000;
/** Writes held at once; past it the oldest is dropped unsettled. */
export const MAX_HELD = 10_000;

/** The event a write stands for, less what the write itself gives (tracker, correlation id, time). */
export type DoubtedEvent = Pick<ExitEventRecord, "kind" | "status" | "message">;

interface Held {
  /** The tracker as the write would have stored it (its version is the one it would have taken). */
  readonly write: TrackerRecord;
  readonly event: DoubtedEvent;
  readonly untilMs: number;
}

/** A compare-and-set's outcome; `lostWrite` when the tracker it showed has an earlier held write of it applied. */
export type HeldWriteOutcome = CompareAndSetOutcome & { readonly lostWrite?: TrackerRecord };

/** What a stored tracker says of a held write. */
type Verdict = "applied" | "not-applied" | "unknown";

export class WritesInDoubt {
  private readonly held = new Map<string, Held[]>();
  private count = 0;

  constructor(
    private readonly store: Pick<TrackerStore, "get">,
    private readonly events: ExitEventSink,
    private readonly clock: Clock,
    private readonly log: ExitLog,
  ) {}

  /**
   * `store`'s compare-and-set of `next` over `expectedVersion`. When it throws, `next` is held with
   * `event` before the error goes on; when it answers, what was held for the tracker is settled against
   * the tracker it shows (`lostWrite`: the one of them it shows applied, its event published).
   */
  async compareAndSet(
    store: Pick<TrackerStore, "compareAndSet">,
    next: TrackerRecord,
    expectedVersion: number,
    event: DoubtedEvent,
  ): Promise<HeldWriteOutcome> {
    let written: CompareAndSetOutcome;
    try {
      written = await store.compareAndSet(next, expectedVersion);
    } catch (error) {
      this.hold(next, expectedVersion, event);
      throw error;
    }
    const stored = written.kind === "written" ? written.tracker : written.kind === "not-found" ? undefined : written.current;
    const lostWrite = this.settleWith(next.orderNo, stored);
    return lostWrite ? { ...written, lostWrite } : written;
  }

  /** Holds `next`, written over `expectedVersion` with no reply, until the store tells whether it was applied. */
  hold(next: TrackerRecord, expectedVersion: number, event: DoubtedEvent): void {
    if (this.count >= MAX_HELD) this.dropOldest();
    const list = this.held.get(next.orderNo) ?? [];
    list.push({ write: { ...next, version: expectedVersion + 1 }, event, untilMs: this.clock.now() + HOLD_MS });
    this.held.set(next.orderNo, list);
    this.count++;
  }

  /**
   * Settles the held writes of `stored`'s tracker (`orderNo` when it is gone)
   * against it; answers the write whose event was published, if one was.
   */
  settleWith(orderNo: string, stored: TrackerRecord | undefined): TrackerRecord | undefined {
    const list = this.held.get(orderNo);
    if (!list) return undefined;
    let applied: TrackerRecord | undefined;
    const kept = list.filter((held) => {
      const verdict = verdictOf(stored, held.write);
      if (verdict === "applied") {
        this.publish(held);
        applied = held.write;
      }
      return verdict === "unknown" && !this.expired(held);
    });
    this.replace(orderNo, list.length, kept);
    return applied;
  }

  /** Reads every held write's tracker and settles it; answers how many events were published. Never throws. */
  async settle(): Promise<number> {
    let published = 0;
    for (const orderNo of [...this.held.keys()]) {
      try {
        if (this.settleWith(orderNo, await this.store.get(orderNo))) published++;
      } catch {
        // Still unreachable: held for the next pass, or dropped once expired.
        this.expire(orderNo);
      }
    }
    return published;
  }

  /** Writes still in doubt. */
  get size(): number {
    return this.count;
  }

  private publish({ write, event }: Held): void {
    this.events.publish({
      ...event,
      tracker: write,
      correlationId: write.exitCorrelationId,
      timeMs: write.updatedAt,
      message: `${event.message} (recorded at ${new Date(write.updatedAt).toISOString()}; the store's reply was lost)`,
    });
  }

  private expired(held: Held): boolean {
    if (this.clock.now() < held.untilMs) return false;
    this.log.error(
      { orderNo: held.write.orderNo, correlationId: held.write.exitCorrelationId, kind: held.event.kind },
      "tracker write in doubt dropped: the store did not show whether it was applied; its event may be missing from the trail",
    );
    return true;
  }

  private expire(orderNo: string): void {
    const list = this.held.get(orderNo) ?? [];
    this.replace(
      orderNo,
      list.length,
      list.filter((held) => !this.expired(held)),
    );
  }

  private dropOldest(): void {
    const [orderNo, list] = this.held.entries().next().value as [string, Held[]];
    const [oldest, ...rest] = list;
    this.log.error(
      { orderNo, correlationId: oldest?.write.exitCorrelationId, held: this.count },
      "tracker write in doubt dropped: too many are held; its event may be missing from the trail",
    );
    this.replace(orderNo, list.length, rest);
  }

  private replace(orderNo: string, before: number, kept: Held[]): void {
    this.count -= before - kept.length;
    if (kept.length === 0) this.held.delete(orderNo);
    else this.held.set(orderNo, kept);
  }
}

function verdictOf(stored: TrackerRecord | undefined, write: TrackerRecord): Verdict {
  if (!stored) return "not-applied";
  if (stored.version < write.version) return "unknown";
  if (stored.version === write.version) return sameWrite(stored, write) ? "applied" : "not-applied";
  return keepsMarkOf(stored, write) ? "applied" : "not-applied";
}

/** Whether `stored` is `write` itself, and not another write that took the same version (after a failover, say). */
export function sameWrite(stored: TrackerRecord, write: TrackerRecord): boolean {
  return (
    stored.updatedAt === write.updatedAt &&
    stored.fencingToken === write.fencingToken &&
    stored.status === write.status &&
    stored.exitCorrelationId === write.exitCorrelationId
  );
}

/** Whether later writes kept what only this write could have put there. */
function keepsMarkOf(stored: TrackerRecord, write: TrackerRecord): boolean {
  if (stored.exitCorrelationId !== write.exitCorrelationId) return false;
  if (write.status === TrackerStatus.EXITING) return stored.exitRequestedAt === write.exitRequestedAt;
  if (write.status === TrackerStatus.EXITED) return stored.status === TrackerStatus.EXITED && stored.exitedAt === write.exitedAt;
  return false;
}
