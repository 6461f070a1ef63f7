/**
 * The fleet's log of the tracker changes that matter to protection, which
 * each process reads instead of re-reading every ACTIVE tracker: the store
 * appends `(order_no, tracker version)` atomically with the write itself
 * (the same Lua script on Redis), whenever a tracker
 * - is registered with an exit plan,
 * - has its plan set, changed or removed,
 * - enters or leaves ACTIVE (EXITING, EXITED, CANCELLED; back to ACTIVE
 *   after a rejected exit; PENDING to ACTIVE).
 * Fills, intents and other writes that keep the status and the plan append
 * nothing.
 *
 * Invariants: entries are read in the order they were appended, each once;
 * the log is capped, and a reader whose position fell out of it is told
 * (`gap`) rather than handed what is left, so it re-reads everything. An
 * adapter may answer a gap where none is certain (a full re-read is always
 * safe), never entries where some were lost.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";

/** Where a reader stands in the log: the last entry it read (opaque to it). */
export interface ChangeLogPosition {
  readonly id: string;
  /** The entry's number in the log, 1 for the first ever appended; 0 before any. */
  readonly seq: number;
  /** What the entry held (`order_no@version`; "" before any), to tell it from another written later at the same id and number. */
  readonly mark: string;
}

export interface ProtectionChange {
  readonly orderNo: string;
  /** The tracker's version the change wrote; a read of the tracker answers this one or a later one. */
  readonly version: number;
}

export type ChangeLogRead =
  | { readonly kind: "changes"; readonly changes: readonly ProtectionChange[]; readonly position: ChangeLogPosition }
  /** Entries after the position were trimmed before they were read: re-read every tracker, then go on from a fresh `tip`. */
  | { readonly kind: "gap" };

export interface ProtectionChangeLog {
  /** The position after the last entry appended so far: `read` from it answers only later changes. */
  tip(): Promise<ChangeLogPosition>;
  /** The changes after `position`, `limit` at most, in order, and the position after them. */
  read(position: ChangeLogPosition, limit: number): Promise<ChangeLogRead>;
}

/** Whether writing `after` over `before` (undefined: a registration) is a change the log records. */
export function isProtectionChange(before: TrackerRecord | undefined, after: TrackerRecord): boolean {
  if (!before) return after.exitPlan !== undefined;
  if (before.exitPlan?.version !== after.exitPlan?.version) return true;
  return before.status !== after.status && (before.status === TrackerStatus.ACTIVE || after.status === TrackerStatus.ACTIVE);
}
