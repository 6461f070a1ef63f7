/**
 * UpdateExitPlan's write: sets, replaces or removes a tracker's plan by a
 * compare-and-set on the version the caller read, so a change racing a
 * trigger's exit is decided by the store (the exit's intent and this write
 * cannot both succeed on the same version).
 *
 * The plan's version is the tracker version the change writes: it only ever
 * grows, across removals too, so a trigger evaluated under an older plan
 * never matches a newer one.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitPlanRules } from "../domain/exit-plan.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { TrackerStore } from "../exit/ports.js";

/** Throws `not-found`, or `failed-precondition` for a stale version or a tracker that is not ACTIVE or PENDING. */
export async function changeExitPlan(
  store: TrackerStore,
  tracker: TrackerRecord,
  rules: ExitPlanRules | undefined,
  expectedVersion: number,
  nowMs: number,
): Promise<TrackerRecord> {
  const refusal = changeRefusal(tracker, expectedVersion);
  if (refusal) throw refusal;
  const { exitPlan: _previous, ...rest } = tracker;
  const next: TrackerRecord = {
    ...rest,
    ...(rules ? { exitPlan: { ...rules, version: expectedVersion + 1 } } : {}),
    updatedAt: nowMs,
  };
  const written = await store.compareAndSet(next, expectedVersion);
  switch (written.kind) {
    case "written":
      return written.tracker;
    case "not-found":
      throw new TradingCoreError("not-found", `no tracker with order_no ${tracker.orderNo}`);
    default:
      throw changeRefusal(written.current, expectedVersion) ?? versionMismatch(written.current, expectedVersion);
  }
}

function changeRefusal(tracker: TrackerRecord, expectedVersion: number): TradingCoreError | undefined {
  if (tracker.status !== TrackerStatus.ACTIVE && tracker.status !== TrackerStatus.PENDING) {
    return new TradingCoreError(
      "failed-precondition",
      `tracker ${tracker.orderNo} is ${TrackerStatus[tracker.status]}; only an ACTIVE or PENDING tracker's plan can change`,
    );
  }
  return tracker.version === expectedVersion ? undefined : versionMismatch(tracker, expectedVersion);
}

function versionMismatch(tracker: TrackerRecord, expectedVersion: number): TradingCoreError {
  return new TradingCoreError(
    "failed-precondition",
    `expected_version ${expectedVersion} is not the tracker's version ${tracker.version}; read the tracker again`,
  );
}
