/**
 * The book and its sync between ticks and the store: a flush writes the
 * trackers whose state moved, and those alone, in batched store calls; a
 * failed write is retried; a new high that reaches a stop loss is not taken
 * for a mere raise of the trail.
 */
import { describe, expect, it, vi } from "vitest";
import { Segment, Side } from "../../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../../gen/tradingcore/v1/protection_pb.js";
import type { ExitPlan, ExitTrigger, ProtectionState } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import type { ProtectionAdvance, TrackerStore } from "../../../src/exit/ports.js";
import { ProtectionBook } from "../../../src/protection/protection-book.js";
import { ProtectionSync } from "../../../src/protection/protection-sync.js";
import { MemoryProtectionStates } from "../../../src/store/memory-protection-states.js";
import { newTrackerFromSpec } from "../../../src/store/tracker-query.js";
import { quietLog, trackerSpec } from "../../support/exit-fixtures.js";

const TRAIL_5: ExitPlan = { trailingStop: { distance: { kind: "points", value: new Money("5") } }, version: 1 };
const FIXED: ExitPlan = {
  stopLoss: { kind: "price", value: new Money("90") },
  takeProfit: { kind: "price", value: new Money("120") },
  version: 1,
};

/** Memory states that count the calls and fail the next `failing` of them. */
class CountingStates extends MemoryProtectionStates {
  readonly batches: string[][] = [];
  failing = 0;

  override async advanceMany(entries: readonly ProtectionAdvance[]): Promise<ProtectionState[]> {
    this.batches.push(entries.map((entry) => entry.orderNo));
    if (this.failing > 0) {
      this.failing--;
      throw new Error("store down");
    }
    return super.advanceMany(entries);
  }
}

function tracker(orderNo: string, exitPlan: ExitPlan, securityId = "1333") {
  return newTrackerFromSpec(trackerSpec(orderNo, { securityId, entryPrice: new Money("100"), exitPlan }), 0);
}

function tickAt(ltp: string, timeMs: number, securityId = "1333") {
  return [{ segment: Segment.NSE_EQ, securityId, ltp: new Money(ltp), timeMs }];
}

/** A book and its sync wired as protective-exits.ts wires them: a tracker leaving the book is retired through the sync. */
function bookAndSync(states = new CountingStates(), onTrigger: (trigger: ExitTrigger) => boolean = () => true) {
  const book = new ProtectionBook(
    { staleAfterMs: Number.POSITIVE_INFINITY },
    () => 0,
    (_watched, trigger) => onTrigger(trigger),
    (watched, state) => sync.retire(watched, state),
  );
  const sync = new ProtectionSync(book, {} as TrackerStore, states, quietLog, { refreshMs: 0, flushMs: 100 });
  return { book, sync, states };
}

describe("ProtectionSync.flush with many watched trackers", () => {
  it("writes only the trackers whose state moved, in one store call, with the pending new high applied", async () => {
    const { book, sync, states } = bookAndSync();
    for (let index = 0; index < 50; index++) book.watch(tracker(`F-${index}`, FIXED, "FIXED"));
    book.watch(tracker("T-1", TRAIL_5));
    book.watch(tracker("T-2", TRAIL_5, "OTHER"));
    book.write(tickAt("100", 1));
    book.write(tickAt("104", 2));
    book.write(tickAt("100", 1, "FIXED"));
    await sync.flush();
    expect(states.batches).toEqual([["T-1"]]);
    expect((await states.get(["T-1"])).get("T-1")?.trailHighWater?.toFixed()).toBe("104");
    expect((await states.get(["T-1"])).get("T-1")?.trailLevel?.toFixed()).toBe("99");
    await sync.flush();
    expect(states.batches).toHaveLength(1);
  });

  it("writes a state whose write failed again on the next flush", async () => {
    const { book, sync, states } = bookAndSync();
    book.watch(tracker("T-1", TRAIL_5));
    book.write(tickAt("100", 1));
    states.failing = 1;
    await sync.flush();
    expect((await states.get(["T-1"])).size).toBe(0);
    await sync.flush();
    expect(states.batches).toEqual([["T-1"], ["T-1"]]);
    expect((await states.get(["T-1"])).get("T-1")?.trailLevel?.toFixed()).toBe("95");
  });

  it("writes the last state of a tracker unwatched after its state moved as it leaves, its pending new high applied, and not on the flush", async () => {
    const { book, sync, states } = bookAndSync();
    book.watch(tracker("T-1", TRAIL_5));
    book.watch(tracker("T-2", TRAIL_5));
    book.write(tickAt("100", 1));
    book.write(tickAt("104", 2));
    book.unwatch("T-1");
    expect(states.batches).toEqual([["T-1"]]);
    expect((await states.get(["T-1"])).get("T-1")?.trailLevel?.toFixed()).toBe("99");
    await sync.flush();
    expect(states.batches).toEqual([["T-1"], ["T-2"]]);
  });

  it("writes nothing for a tracker unwatched with nothing moved since its last write", async () => {
    const { book, sync, states } = bookAndSync();
    book.watch(tracker("T-1", TRAIL_5));
    book.write(tickAt("100", 1));
    await sync.flush();
    book.unwatch("T-1");
    book.watch(tracker("F-1", FIXED, "FIXED"));
    book.write(tickAt("100", 1, "FIXED"));
    book.unwatch("F-1");
    expect(states.batches).toEqual([["T-1"]]);
  });

  it("writes no state on a timer with a flush pause of 0 (the embedded store: reads ask the book)", async () => {
    vi.useFakeTimers();
    try {
      const states = new CountingStates();
      const book = new ProtectionBook(
        { staleAfterMs: Number.POSITIVE_INFINITY },
        () => 0,
        () => true,
      );
      const sync = new ProtectionSync(book, {} as TrackerStore, states, quietLog, { refreshMs: 0, flushMs: 0 });
      book.watch(tracker("T-1", TRAIL_5));
      sync.start();
      book.write(tickAt("100", 1));
      await vi.advanceTimersByTimeAsync(10_000);
      expect(states.batches).toEqual([]);
      await sync.stop();
      expect(states.batches).toEqual([["T-1"]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("adopts a further state the store answers, and fires at its trail", async () => {
    const states = new CountingStates();
    const fired: ExitTrigger[] = [];
    const { book, sync } = bookAndSync(states, (trigger) => fired.push(trigger) > 0);
    book.watch(tracker("T-1", TRAIL_5));
    book.write(tickAt("100", 1));
    // Another process of the fleet saw 110: its trail stands at 105.
    await states.advance("T-1", Side.LONG, {
      planVersion: 1,
      trailArmed: true,
      trailHighWater: new Money("110"),
      trailLevel: new Money("105"),
      peakArmed: false,
      lastTickTimeMs: 1,
    });
    await sync.flush();
    expect(book.get("T-1")?.state.trailLevel?.toFixed()).toBe("105");
    book.write(tickAt("104", 2));
    expect(fired.map((trigger) => [ProtectionRule[trigger.rule], trigger.level?.toFixed()])).toEqual([["TRAILING_STOP", "105"]]);
  });
});

describe("ProtectionBook when a stop loss trigger was not taken", () => {
  it("fires the stop loss at a new high still beyond it, not only raising the trail", () => {
    const fired: ExitTrigger[] = [];
    let take = false;
    const { book } = bookAndSync(new CountingStates(), (trigger) => {
      fired.push(trigger);
      return take;
    });
    const plan: ExitPlan = { ...TRAIL_5, stopLoss: { kind: "price", value: new Money("98") } };
    book.watch(tracker("T-1", plan));
    book.write(tickAt("97", 1)); // arms the trail at 97 and reaches the stop loss; the worker refuses it
    take = true;
    book.write(tickAt("97.5", 2)); // a new high for the trail, still at or below the stop loss
    expect(fired.map((trigger) => [ProtectionRule[trigger.rule], trigger.tickPrice?.toFixed()])).toEqual([
      ["STOP_LOSS", "97"],
      ["STOP_LOSS", "97.5"],
    ]);
  });
});

describe("ProtectionBook during a run of new highs", () => {
  const TRAIL_20: ExitPlan = { trailingStop: { distance: { kind: "points", value: new Money("20") } }, version: 1 };

  function firedOn(plans: ExitPlan[], ticks: string[], side = Side.LONG) {
    const fired: string[] = [];
    const { book } = bookAndSync(new CountingStates(), (trigger) => {
      fired.push(`${ProtectionRule[trigger.rule]} ${trigger.level?.toFixed()} at ${trigger.tickPrice?.toFixed()}`);
      return true;
    });
    for (const [index, plan] of plans.entries()) {
      book.watch(newTrackerFromSpec(trackerSpec(`R-${index}`, { side, entryPrice: new Money("100"), exitPlan: plan }), 0));
    }
    for (const [index, ltp] of ticks.entries()) book.write(tickAt(ltp, index + 1));
    return { fired, book };
  }

  it("fires a stop loss above the trails at the pull-back that reaches it", () => {
    const withStop: ExitPlan = { ...TRAIL_20, stopLoss: { kind: "price", value: new Money("99") } };
    // 100 arms both trails (at 80); 101 and 102 are a run; 98.95 falls back past the stop loss, far above the trails (82).
    const { fired } = firedOn([TRAIL_20, withStop], ["100", "101", "102", "101.5", "98.95"]);
    expect(fired).toEqual(["STOP_LOSS 99 at 98.95"]);
  });

  it("fires a SHORT's stop loss below the trails at the pull-back that reaches it", () => {
    const withStop: ExitPlan = { ...TRAIL_20, stopLoss: { kind: "price", value: new Money("101") } };
    const { fired } = firedOn([TRAIL_20, withStop], ["100", "99", "98", "98.5", "101.05"], Side.SHORT);
    expect(fired).toEqual(["STOP_LOSS 101 at 101.05"]);
  });

  it("fires the nearest trail at the pull-back that reaches it, the trail as the run's best moved it", () => {
    const near: ExitPlan = { trailingStop: { distance: { kind: "points", value: new Money("3") } }, version: 1 };
    const { fired } = firedOn([TRAIL_20, near], ["100", "101", "105", "104", "102"]);
    expect(fired).toEqual(["TRAILING_STOP 102 at 102"]);
  });

  it("fires a trail moved by a run of new highs at the first tick that falls back to it", () => {
    const near: ExitPlan = { trailingStop: { distance: { kind: "points", value: new Money("3") } }, version: 1 };
    // 110 moves the near trail to 107 within the run; 98 is below it though above where it stood before the run.
    const { fired } = firedOn([TRAIL_20, near], ["100", "101", "110", "98"]);
    expect(fired).toEqual(["TRAILING_STOP 107 at 98"]);
  });

  it("fires a take profit another tracker of the instrument has at the new high that reaches it during a run", () => {
    const takeProfit: ExitPlan = { takeProfit: { kind: "price", value: new Money("105") }, version: 1 };
    const { fired } = firedOn([TRAIL_20, TRAIL_20, takeProfit], ["100", "101", "103", "106"]);
    expect(fired).toEqual(["TAKE_PROFIT 105 at 106"]);
  });

  it("moves the trail of a tracker watched after a run ended on a new high of its own, below the run's best", () => {
    const fired: string[] = [];
    const { book } = bookAndSync(new CountingStates(), (trigger) => {
      fired.push(`${ProtectionRule[trigger.rule]} ${trigger.level?.toFixed()} at ${trigger.tickPrice?.toFixed()}`);
      return true;
    });
    book.watch(tracker("A", TRAIL_20));
    for (const [index, ltp] of ["100", "101", "110"].entries()) book.write(tickAt(ltp, index + 1));
    expect(book.get("A")!.state.trailLevel?.toFixed()).toBe("90"); // the read ends the run
    book.watch(tracker("B", TRAIL_20));
    // B arms at 105; 107 is a new high for B only (A's best is 110); 86 is below both trails as they then stand.
    for (const [index, ltp] of ["105", "107", "86"].entries()) book.write(tickAt(ltp, index + 10));
    expect(fired.sort()).toEqual(["TRAILING_STOP 87 at 86", "TRAILING_STOP 90 at 86"]);
  });

  it("follows a new high closer to the run's best than the comparison margin, exactly", () => {
    const { book } = firedOn([TRAIL_20], ["100", "101", "100.5", "101.0000000000001"]);
    expect(book.get("R-0")!.state.trailHighWater?.toFixed()).toBe("101.0000000000001");
    expect(book.get("R-0")!.state.trailLevel?.toFixed()).toBe("81.0000000000001");
  });

  it("leaves the trails where the run's best put them after pull-backs and repeats of the best", () => {
    const { fired, book } = firedOn([TRAIL_20, TRAIL_20], ["100", "103", "101", "103", "102.5", "104", "104", "90"]);
    expect(fired).toEqual([]);
    expect([0, 1].map((index) => book.get(`R-${index}`)!.state.trailLevel?.toFixed())).toEqual(["84", "84"]);
  });
});
