/**
 * The answer of an exit whose own write found the tracker moved on by someone
 * else (another process's exit, an order update, the reconciler): what is
 * stored, never a guess. A stale writer answers ALREADY_EXITED for a tracker
 * another attempt exited, never OUTCOME_UNKNOWN.
 */
import { ExitStatus, PriceSource, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { type ExitOutcome, type ExitOutcomeDetails, exitOutcome } from "./exit-outcome.js";

/**
 * What is stored, as an answer for the exit of `intent`; undefined when the
 * stored tracker is still `intent`'s attempt, EXITING (nothing settled it).
 */
export function answerFromStored(
  stored: TrackerRecord | undefined,
  intent: TrackerRecord,
  details: ExitOutcomeDetails = {},
): ExitOutcome | undefined {
  if (!stored) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { ...details, message: `tracker ${intent.orderNo} is gone` });
  const sameAttempt = stored.exitCorrelationId === intent.exitCorrelationId;
  const filled = {
    ...details,
    tracker: stored,
    exitPrice: stored.exitPrice,
    priceSource: PriceSource.FILL,
    correlationId: stored.exitCorrelationId,
    exitOrderId: stored.exitOrderId,
  };
  switch (stored.status) {
    case TrackerStatus.EXITED:
      return sameAttempt
        ? exitOutcome(ExitStatus.EXITED, { ...filled, message: "exited (the fill was recorded by an order update)" })
        : exitOutcome(ExitStatus.ALREADY_EXITED, {
            ...filled,
            message: `tracker was exited by another exit attempt (${stored.exitCorrelationId}); this one sent nothing more`,
          });
    case TrackerStatus.EXITING:
      if (sameAttempt) return undefined;
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
        ...details,
        tracker: stored,
        message: `another exit attempt (${stored.exitCorrelationId}) is in progress`,
      });
    case TrackerStatus.ACTIVE:
      if (sameAttempt) {
        return exitOutcome(ExitStatus.ROUTER_REJECTED, {
          ...details,
          tracker: stored,
          exitPrice: stored.exitPrice,
          message: "the broker refused the order (recorded by an order update); the tracker is ACTIVE with what traded kept",
        });
      }
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
        ...details,
        tracker: stored,
        message: `tracker moved to exit attempt ${stored.exitAttempt} meanwhile`,
      });
    default:
      return exitOutcome(ExitStatus.NOT_ACTIVE, { ...details, tracker: stored, message: `tracker is ${TrackerStatus[stored.status]}` });
  }
}

/** The answer for a tracker that is neither ACTIVE nor EXITING: nothing to send. */
export function answerForSettled(tracker: TrackerRecord): ExitOutcome {
  if (tracker.status === TrackerStatus.EXITED) {
    return exitOutcome(ExitStatus.ALREADY_EXITED, { tracker, exitPrice: tracker.exitPrice, message: "tracker was already exited" });
  }
  if (tracker.status === TrackerStatus.ACTIVE) {
    return exitOutcome(ExitStatus.NOT_ACTIVE, { tracker, message: "tracker has no exit intent to resolve" });
  }
  return exitOutcome(ExitStatus.NOT_ACTIVE, { tracker, message: `tracker is ${TrackerStatus[tracker.status]}, not ACTIVE` });
}

/**
 * The answer of a call that found the exit lock held, from the tracker read
 * without the lock: EXIT_IN_PROGRESS only when an exit may really be running
 * (ACTIVE or EXITING, or the tracker could not be read); otherwise what is
 * stored (ALREADY_EXITED, NOT_ACTIVE, TRACKER_NOT_FOUND).
 */
export function answerWhileBusy(
  orderNo: string,
  read: { readonly tracker: TrackerRecord | undefined } | { readonly failed: string },
): ExitOutcome {
  if ("failed" in read)
    return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
      message: `another exit of ${orderNo} holds the lock (tracker unreadable: ${read.failed})`,
    });
  const tracker = read.tracker;
  if (!tracker) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${orderNo}` });
  if (tracker.status === TrackerStatus.ACTIVE || tracker.status === TrackerStatus.EXITING) {
    return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { tracker, message: `another exit of ${orderNo} holds the lock` });
  }
  return answerForSettled(tracker);
}
