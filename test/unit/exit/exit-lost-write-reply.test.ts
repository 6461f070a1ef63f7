/**
 * The exit engine when a tracker write is applied but its reply is lost (the
 * store's primary dies right after it): the store records the EXITED (or the
 * intent), so its event must reach the trail, once, whether the write's
 * outcome is learnt in the same call or only once the store answers again.
 */
import { describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import type { SequencedExitEvent } from "../../../src/exit/exit-event-hub.js";
import { NO_FAULTS } from "../../../src/router/paper-router.js";
import { FlakyTrackerStore } from "../../support/flaky-tracker-store.js";
import { exitWorld } from "./exit-world.js";

function worldWithLossyStore() {
  const store = new FlakyTrackerStore();
  const world = exitWorld({ store });
  const events: SequencedExitEvent[] = [];
  const watch = world.events.watch();
  void (async () => {
    for await (const event of watch) events.push(event);
  })();
  const kinds = (orderNo: string, kind: ExitEventKind) =>
    events.filter((event) => event.tracker.orderNo === orderNo && event.kind === kind);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { ...world, store, events, kinds, settle };
}

describe("ExecuteExit when the reply of its EXITED write is lost and the store answers the retry", () => {
  it("answers EXITED and publishes one EXITED event", async () => {
    const world = worldWithLossyStore();
    await world.register("LOST-1");
    world.store.loseRepliesOfWritesTo(TrackerStatus.EXITED, 1);

    const outcome = await world.exit("LOST-1");
    await world.settle();

    expect(ExitStatus[outcome.status]).toBe("EXITED");
    expect((await world.tracker("LOST-1")).status).toBe(TrackerStatus.EXITED);
    expect(world.kinds("LOST-1", ExitEventKind.EXITED)).toHaveLength(1);
    expect(world.router.ordersFor("LOST-1")).toBe(1);
  });
});

describe("ExecuteExit when the reply of its EXITED write is lost and the store stays down past the retries", () => {
  it("answers PENDING_RECONCILE, and the next call that reads the tracker publishes the EXITED, once", async () => {
    const world = worldWithLossyStore();
    await world.register("LOST-2");
    world.store.loseRepliesOfWritesTo(TrackerStatus.EXITED, 1);
    world.store.downAfterLostReply = true;

    const outcome = await world.exit("LOST-2");
    await world.settle();
    expect(ExitStatus[outcome.status]).toBe("PENDING_RECONCILE");
    expect(world.kinds("LOST-2", ExitEventKind.EXITED)).toHaveLength(0);
    world.store.down = false;
    expect(ExitStatus[(await world.exit("LOST-2")).status]).toBe("ALREADY_EXITED");
    const reconciler = world.reconciler();
    await reconciler.runOnce();
    await world.exit("LOST-2");
    await world.settle();

    const exited = world.kinds("LOST-2", ExitEventKind.EXITED);
    expect(exited).toHaveLength(1);
    expect(exited[0]!.tracker.status).toBe(TrackerStatus.EXITED);
    expect(exited[0]!.status).toBe(ExitStatus.EXITED);
    expect(exited[0]!.message).toContain("the store's reply was lost");
    expect(world.router.ordersFor("LOST-2")).toBe(1);
  });

  it("keeps the write in doubt while the store is still down, and publishes it on the pass after", async () => {
    const world = worldWithLossyStore();
    await world.register("LOST-3");
    world.store.loseRepliesOfWritesTo(TrackerStatus.EXITED, 1);
    world.store.downAfterLostReply = true;
    await world.exit("LOST-3");

    const reconciler = world.reconciler();
    await reconciler.runOnce();
    await world.settle();
    expect(world.kinds("LOST-3", ExitEventKind.EXITED)).toHaveLength(0);
    world.store.down = false;
    expect((await reconciler.runOnce()).writesSettled).toBe(1);
    await reconciler.runOnce();
    await world.settle();

    expect(world.kinds("LOST-3", ExitEventKind.EXITED)).toHaveLength(1);
    expect(world.engine.writesInDoubt).toBe(0);
  });
});

describe("ExecuteExit when its EXITED write fails without being applied", () => {
  it("publishes one EXITED, the reconciler's, when the reconciler records the fill", async () => {
    const world = worldWithLossyStore();
    await world.register("LOST-4");
    world.store.failWritesTo(TrackerStatus.EXITED, 4);

    expect(ExitStatus[(await world.exit("LOST-4")).status]).toBe("PENDING_RECONCILE");
    world.clock.advance(60_000);
    const reconciler = world.reconciler({ settings: { graceMs: 1_000 } });
    await reconciler.runOnce();
    await reconciler.runOnce();
    await world.settle();

    expect((await world.tracker("LOST-4")).status).toBe(TrackerStatus.EXITED);
    expect(world.kinds("LOST-4", ExitEventKind.EXITED)).toHaveLength(1);
    expect(world.router.ordersFor("LOST-4")).toBe(1);
  });
});

describe("ExecuteExit when the reply of its intent write is lost", () => {
  it("publishes the INTENT once the store shows it, on the reconciler's next pass", async () => {
    const world = worldWithLossyStore();
    await world.register("LOST-5");
    world.store.loseRepliesOfWritesTo(TrackerStatus.EXITING, 1);

    await expect(world.exit("LOST-5")).rejects.toThrow(/connection lost/);
    expect(world.router.ordersFor("LOST-5")).toBe(0);
    await world.reconciler().runOnce();
    await world.settle();

    expect(world.kinds("LOST-5", ExitEventKind.INTENT)).toHaveLength(1);
  });
});

describe("Reconciler when the reply of the EXITED write of the fill it looked up is lost", () => {
  it("publishes that EXITED once, on its next pass after the store answers", async () => {
    const world = worldWithLossyStore();
    await world.register("LOST-6");
    // The broker's reply is lost: the intent stays EXITING with its order traded.
    world.router.faults = { ...NO_FAULTS, lostReplyRate: 1 };
    expect(ExitStatus[(await world.exit("LOST-6")).status]).toBe("OUTCOME_UNKNOWN");
    world.router.faults = NO_FAULTS;
    world.store.loseRepliesOfWritesTo(TrackerStatus.EXITED, 1);
    world.store.downAfterLostReply = true;
    world.clock.advance(60_000);
    const reconciler = world.reconciler({ settings: { graceMs: 1_000 } });

    await reconciler.runOnce();
    await world.settle();
    expect(world.kinds("LOST-6", ExitEventKind.EXITED)).toHaveLength(0);
    world.store.down = false;
    await reconciler.runOnce();
    await reconciler.runOnce();
    await world.settle();

    expect((await world.tracker("LOST-6")).status).toBe(TrackerStatus.EXITED);
    expect(world.kinds("LOST-6", ExitEventKind.EXITED)).toHaveLength(1);
    expect(world.router.ordersFor("LOST-6")).toBe(1);
  });
});
