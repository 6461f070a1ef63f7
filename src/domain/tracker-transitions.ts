/**
 * The tracker state machine as one table. A store refuses any status change
 * that is not an edge here; writes that keep the status (recording a fill, an
 * order id) are always edges. EXITED is final: it is written only once the
 * broker reports the whole quantity filled, so nothing can refuse it later.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { TradingCoreError } from "./trading-core-error.js";

const { PENDING, ACTIVE, EXITING, EXITED, CANCELLED } = TrackerStatus;

/** Every legal status change, with why it happens. */
export const TRACKER_TRANSITIONS: ReadonlyArray<{ from: TrackerStatus; to: TrackerStatus; why: string }> = [
  { from: PENDING, to: ACTIVE, why: "the entry order filled" },
  { from: PENDING, to: CANCELLED, why: "the entry order never filled" },
  { from: ACTIVE, to: EXITING, why: "an exit intent was persisted before calling the router" },
  { from: EXITING, to: EXITED, why: "the broker reported fills for the whole open quantity" },
  { from: EXITING, to: ACTIVE, why: "the broker definitely refused the exit order (what traded is kept), or it was never placed" },
];

export function isLegalTransition(from: TrackerStatus, to: TrackerStatus): boolean {
  return from === to || TRACKER_TRANSITIONS.some((edge) => edge.from === from && edge.to === to);
}

/** Throws `illegal-transition` when `from → to` is not an edge of the table. */
export function assertLegalTransition(orderNo: string, from: TrackerStatus, to: TrackerStatus): void {
  if (!isLegalTransition(from, to)) {
    throw new TradingCoreError(
      "illegal-transition",
      `tracker ${orderNo}: ${TrackerStatus[from]} -> ${TrackerStatus[to]} is not a legal transition`,
    );
  }
}
