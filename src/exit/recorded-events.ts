/**
 * Whether the tracker store still records the state each event was published
 * with. Every exit event carries the tracker as written or read just before
 * it was published; the store shows that state, or a later one, unless it
 * lost writes: a master that died before replicating its last writes, and
 * the replica promoted in its place. The audit trail asks this of the events
 * it sends again after a failed append (redis-exit-trail.ts), so that an
 * event of a lost write (an EXITED the reconciler then writes anew, with its
 * own event) does not reach the trail beside the event of the write that
 * stands.
 */
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitEventRecord, TrackerStore } from "./ports.js";
import { sameWrite } from "./writes-in-doubt.js";

/** One answer per event: true while the store shows the event's tracker state or a later one. */
export type StillRecorded = (events: readonly ExitEventRecord[]) => Promise<readonly boolean[]>;

/** StillRecorded read from `store`, one read per tracker named. */
export function stillRecordedIn(store: Pick<TrackerStore, "get">): StillRecorded {
  return async (events) => {
    const orderNos = [...new Set(events.map((event) => event.tracker.orderNo))];
    const stored = new Map(await Promise.all(orderNos.map(async (orderNo) => [orderNo, await store.get(orderNo)] as const)));
    return events.map((event) => showsStateOf(stored.get(event.tracker.orderNo), event.tracker));
  };
}

function showsStateOf(stored: TrackerRecord | undefined, seen: TrackerRecord): boolean {
  if (!stored || stored.version < seen.version) return false;
  // The same version written twice (lost, then written again after the failover) is told apart by sameWrite.
  return stored.version > seen.version || sameWrite(stored, seen);
}
