/**
 * The Redis trail's events sent again after a failed append, checked against
 * the tracker store first: after a failover that lost a master's last writes,
 * the promoted replica must not get the event of a write it lacks (the
 * reconciler writes that step again there, with its own event).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import type { Clock, ExitEventRecord, ExitLog } from "../../../src/exit/ports.js";
import { stillRecordedIn } from "../../../src/exit/recorded-events.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import type { RedisExitTrail } from "../../../src/trail/redis-exit-trail.js";
import { intentOf, trackerSpec, written } from "../../support/exit-fixtures.js";
import { redisTrailHarnessForFile } from "../../support/redis-trail.js";

const SLOW = 60_000;
const redis = redisTrailHarnessForFile(SLOW);
const ROOMY = { maxEvents: 100_000, maxAgeMs: 0 };
// Real time: Redis numbers entries by its own clock. Only the append's backoff sleeps.
const clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

afterEach(async () => {
  await redis().release();
}, SLOW);

function eventOf(kind: ExitEventKind, tracker: TrackerRecord, status?: ExitStatus): ExitEventRecord {
  return {
    kind,
    tracker,
    ...(status === undefined ? {} : { status }),
    correlationId: tracker.exitCorrelationId,
    timeMs: clock.now(),
    message: "",
  };
}

/**
 * The store as the promoted replica holds it: LOST-1's intent (its EXITED was written on the master
 * that died, and is not here), KEPT-1's intent. The events: both intents, and LOST-1's EXITED.
 */
async function afterALostWrite() {
  const store = new MemoryTrackerStore();
  const intents: TrackerRecord[] = [];
  for (const orderNo of ["LOST-1", "KEPT-1"]) {
    const { tracker } = await store.register(trackerSpec(orderNo), clock.now());
    intents.push(await written(store, intentOf(tracker), tracker.version));
  }
  const [lost, kept] = intents as [TrackerRecord, TrackerRecord];
  const lostExited = { ...lost, version: lost.version + 1, status: TrackerStatus.EXITED, updatedAt: lost.updatedAt + 1 };
  const events = [
    eventOf(ExitEventKind.INTENT, lost),
    eventOf(ExitEventKind.INTENT, kept),
    eventOf(ExitEventKind.EXITED, lostExited, ExitStatus.EXITED),
  ];
  return { store, events };
}

function recordingLog() {
  const errors: string[] = [];
  const log: ExitLog = { info() {}, warn() {}, error: (_fields, message) => errors.push(message) };
  return { log, errors };
}

async function appended(trail: RedisExitTrail, events: readonly ExitEventRecord[]) {
  for (const event of events) trail.publish(event);
  expect(await trail.flush(10_000)).toBe(true);
  return (await trail.read({}, 100)).map((event) => `${ExitEventKind[event.kind]} ${event.tracker.orderNo}`);
}

describe("RedisExitTrail sending events again after a failed append", () => {
  it("drops an event whose tracker state the store no longer holds, and appends the rest once", async () => {
    const { store, events } = await afterALostWrite();
    const { log, errors } = recordingLog();
    const trail = await redis().trail({ clock, retention: ROOMY, log, recorded: stillRecordedIn(store), failingAppends: 1 });
    expect(await appended(trail, events)).toEqual(["INTENT LOST-1", "INTENT KEPT-1"]);
    expect(errors.filter((message) => message.includes("EXITED not appended"))).toHaveLength(1);
  });

  it("checks nothing while appends go through: the store is read only after a failure", async () => {
    const { store, events } = await afterALostWrite();
    let reads = 0;
    const counting = { get: (orderNo: string) => (reads++, store.get(orderNo)) };
    const trail = await redis().trail({ clock, retention: ROOMY, recorded: stillRecordedIn(counting) });
    expect(await appended(trail, events)).toEqual(["INTENT LOST-1", "INTENT KEPT-1", "EXITED LOST-1"]);
    expect(reads).toBe(0);
  });

  it("keeps an event of a write followed by later ones, and one of a tracker read as it is stored", async () => {
    const { store, events } = await afterALostWrite();
    const [lostIntent] = events as [ExitEventRecord];
    // The reconciler's EXITED on the promoted replica: the intent's event still records a state the store went on from.
    const exited = await written(store, { ...lostIntent.tracker, status: TrackerStatus.EXITED }, lostIntent.tracker.version);
    const trail = await redis().trail({ clock, retention: ROOMY, recorded: stillRecordedIn(store), failingAppends: 2 });
    expect(await appended(trail, [lostIntent, eventOf(ExitEventKind.EXITED, exited, ExitStatus.EXITED)])).toEqual([
      "INTENT LOST-1",
      "EXITED LOST-1",
    ]);
  });
});
