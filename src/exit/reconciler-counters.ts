/**
 * The reconciler's vocabulary: what one resolution did (`ReconcileAction`)
 * and the counts per action it keeps for logs and, later, metrics.
 */
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitOutcome } from "./exit-outcome.js";

/**
 * - `exited`: the order traded (or had been recorded as traded); the tracker is EXITED.
 * - `reverted`: the broker refused the order, maybe after a partial fill; the tracker is ACTIVE again.
 * - `replaced`: the broker never received the order; the engine placed the next attempt.
 * - `awaiting-fill`: the broker knows the order and it is still live; polled again next pass.
 * - `unresolved`: no answer yet (order unknown within the deadline, look-up failed, lock busy).
 * - `settled-elsewhere`: by the time the lock was held, someone else had resolved the intent.
 */
export type ReconcileAction = "exited" | "reverted" | "replaced" | "awaiting-fill" | "unresolved" | "settled-elsewhere";

/** Counts per action; a pass's own, or totals since start. */
export interface ReconcilerCounters {
  passes: number;
  /** EXITING intents old enough to resolve. */
  examined: number;
  /** Trackers brought to EXITED, by resolution or retry. */
  exited: number;
  reverted: number;
  /** Reverted intents whose order had traded part of its quantity. */
  partlyExited: number;
  replaced: number;
  /** Intents whose order is live at the broker (still followed). */
  awaitingFill: number;
  /** Live orders reported as overdue (once each). */
  overdue: number;
  /** Orders found for superseded attempts: duplicates, reported. */
  duplicates: number;
  unresolved: number;
  settledElsewhere: number;
  /** New attempts made for refused exits. */
  retried: number;
  /** Refused exits reported after their retry budget ran out. */
  retriesExhausted: number;
  /** Parked order updates applied once their tracker appeared. */
  parkedApplied: number;
  /** Events of tracker writes whose reply was lost, published once the store showed the write applied. */
  writesSettled: number;
  /** Store or engine failures; the next pass tries again. */
  failures: number;
}

export function emptyCounters(): ReconcilerCounters {
  return {
    passes: 0,
    examined: 0,
    exited: 0,
    reverted: 0,
    partlyExited: 0,
    replaced: 0,
    awaitingFill: 0,
    overdue: 0,
    duplicates: 0,
    unresolved: 0,
    settledElsewhere: 0,
    retried: 0,
    retriesExhausted: 0,
    parkedApplied: 0,
    writesSettled: 0,
    failures: 0,
  };
}

/** What `engine.resolveIntent` did to `listed`, an EXITING tracker, judged from its outcome. */
export function classifyResolution(listed: TrackerRecord, outcome: ExitOutcome): ReconcileAction {
  const after = outcome.tracker;
  if (after && after.exitAttempt > listed.exitAttempt) return "replaced";
  switch (outcome.status) {
    case ExitStatus.EXITED:
      return "exited";
    case ExitStatus.AWAITING_FILL:
      return "awaiting-fill";
    case ExitStatus.ALREADY_EXITED:
    case ExitStatus.NOT_ACTIVE:
    case ExitStatus.TRACKER_NOT_FOUND:
      return "settled-elsewhere";
    case ExitStatus.ROUTER_REJECTED:
    case ExitStatus.ROUTER_UNAVAILABLE:
      return after?.status === TrackerStatus.ACTIVE ? "reverted" : "unresolved";
    default:
      return "unresolved";
  }
}

/** Adds one resolution to a pass's counts. */
export function countResolution(tally: ReconcilerCounters, action: ReconcileAction, outcome: ExitOutcome): void {
  switch (action) {
    case "exited":
      tally.exited++;
      break;
    case "reverted":
      tally.reverted++;
      if (outcome.tracker && !outcome.tracker.exitedQuantity.isZero()) tally.partlyExited++;
      break;
    case "replaced":
      tally.replaced++;
      if (outcome.success) tally.exited++;
      break;
    case "awaiting-fill":
      tally.awaitingFill++;
      break;
    case "unresolved":
      tally.unresolved++;
      break;
    case "settled-elsewhere":
      tally.settledElsewhere++;
      break;
  }
}

/** Adds a pass's counts to the running totals. */
export function addInto(totals: ReconcilerCounters, pass: ReconcilerCounters): void {
  for (const key of Object.keys(totals) as Array<keyof ReconcilerCounters>) totals[key] += pass[key];
}

/** True when a pass did anything worth a log line. */
export function hasWork(tally: ReconcilerCounters): boolean {
  return (
    tally.examined +
      tally.retried +
      tally.retriesExhausted +
      tally.parkedApplied +
      tally.writesSettled +
      tally.duplicates +
      tally.failures >
    0
  );
}
