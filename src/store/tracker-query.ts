import { ExitReasonCode } from "../../gen/tradingcore/v1/common_pb.js";
import { ZERO } from "../domain/money.js";
import type { TrackerRecord, TrackerSpec } from "../domain/tracker.js";
import type { TrackerQuery } from "../exit/ports.js";

/** The tracker a registration creates: version 1, nothing exited yet. */
export function newTrackerFromSpec(spec: TrackerSpec, nowMs: number): TrackerRecord {
  return {
    ...spec,
    meta: { ...spec.meta },
    exitReason: "",
    exitReasonCode: ExitReasonCode.UNSPECIFIED,
    exitCorrelationId: "",
    exitOrderId: "",
    exitedQuantity: ZERO,
    priorExitedQuantity: ZERO,
    exitAttempt: 0,
    fencingToken: 0,
    version: 1,
    createdAt: nowMs,
    updatedAt: nowMs,
  };
}

/** True when the tracker matches every field the query sets. */
export function matchesQuery(tracker: TrackerRecord, query: TrackerQuery): boolean {
  return (
    (query.status === undefined || tracker.status === query.status) &&
    (query.segment === undefined || tracker.segment === query.segment) &&
    (query.paper === undefined || tracker.paper === query.paper)
  );
}
