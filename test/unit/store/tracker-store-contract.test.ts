/**
 * The TrackerStore contract, run against every adapter: what the exit engine
 * may rely on whichever store is configured.
 */
import { describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import type { TrackerStore } from "../../../src/exit/ports.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { trackerSpec } from "../../support/exit-fixtures.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);

const adapters: Array<[string, () => Promise<TrackerStore>]> = [
  ["MemoryTrackerStore", async () => new MemoryTrackerStore()],
  ["RedisTrackerStore", async () => redis().store()],
];

function intentOf(tracker: TrackerRecord, token: number, attempt = tracker.exitAttempt + 1): TrackerRecord {
  return {
    ...tracker,
    status: TrackerStatus.EXITING,
    exitAttempt: attempt,
    exitCorrelationId: `corr-${tracker.orderNo}-${attempt}`,
    exitReason: "stop loss hit",
    exitReasonCode: ExitReasonCode.STOP_LOSS,
    exitRequestedAt: 1_700_000_000_123,
    exitSendDeadline: 1_700_000_005_123,
    referencePrice: new Money("1523.5"),
    fencingToken: token,
    updatedAt: 1_700_000_000_123,
  };
}

function exitedOf(intent: TrackerRecord): TrackerRecord {
  return {
    ...intent,
    status: TrackerStatus.EXITED,
    exitPrice: new Money("1523.4500000001"),
    exitOrderId: "order-1",
    exitedQuantity: intent.quantity,
    exitedAt: 1_700_000_000_456,
  };
}

describe.each(adapters)("%s", (_name, makeStore) => {
  describe("when registering", () => {
    it(
      "creates a tracker at version 1 and answers created",
      async () => {
        const store = await makeStore();
        const { tracker, created } = await store.register(trackerSpec("REG-1"), 1_000);
        expect(created).toBe(true);
        expect(tracker).toMatchObject({ orderNo: "REG-1", version: 1, status: TrackerStatus.ACTIVE, fencingToken: 0, createdAt: 1_000 });
        expect(await store.get("REG-1")).toEqual(tracker);
      },
      SLOW,
    );

    it(
      "answers the stored tracker, not created, for the same spec again",
      async () => {
        const store = await makeStore();
        const first = await store.register(trackerSpec("REG-2"), 1_000);
        const again = await store.register(trackerSpec("REG-2", { meta: { strategy: "test" } }), 2_000);
        expect(again).toEqual({ tracker: first.tracker, created: false });
      },
      SLOW,
    );

    it(
      "refuses a different spec under the same order_no with conflict and changes nothing",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("REG-3"), 1_000);
        await expect(store.register(trackerSpec("REG-3", { quantity: new Money("11") }), 2_000)).rejects.toMatchObject({
          code: "conflict",
        });
        expect(await store.get("REG-3")).toEqual(tracker);
      },
      SLOW,
    );

    it(
      "creates exactly one tracker when the same spec is registered concurrently",
      async () => {
        const store = await makeStore();
        const results = await Promise.all(Array.from({ length: 8 }, () => store.register(trackerSpec("REG-4"), 1_000)));
        expect(results.filter((result) => result.created)).toHaveLength(1);
      },
      SLOW,
    );
  });

  describe("when reading", () => {
    it(
      "answers undefined for an unknown order_no",
      async () => {
        const store = await makeStore();
        expect(await store.get("NOPE")).toBeUndefined();
      },
      SLOW,
    );

    it(
      "gives back every field as written, decimals exactly",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(
          trackerSpec("READ-1", { quantity: new Money("0.00000001"), entryPrice: new Money("99999999.123456789") }),
          1_000,
        );
        const intent = intentOf(tracker, 3);
        const written = await store.compareAndSet(intent, tracker.version);
        expect(written.kind).toBe("written");
        const exited = exitedOf((await store.get("READ-1"))!);
        expect(
          (await store.compareAndSet({ ...exited, priorExitedQuantity: new Money("0.00000001"), priorExitPrice: new Money("1.5") }, 2))
            .kind,
        ).toBe("written");
        const stored = (await store.get("READ-1"))!;
        expect(stored.quantity.toFixed()).toBe("0.00000001");
        expect(stored.entryPrice.toFixed()).toBe("99999999.123456789");
        expect(stored.exitPrice?.toFixed()).toBe("1523.4500000001");
        expect(stored.priorExitPrice?.toFixed()).toBe("1.5");
        expect(stored).toMatchObject({ exitSendDeadline: 1_700_000_005_123, referencePrice: new Money("1523.5") });
        expect(stored).toEqual({ ...exited, priorExitedQuantity: new Money("0.00000001"), priorExitPrice: new Money("1.5"), version: 3 });
        expect((await store.compareAndSet({ ...stored, overExitedQuantity: new Money("0.5") }, 3)).kind).toBe("written");
        expect((await store.get("READ-1"))?.overExitedQuantity?.toFixed()).toBe("0.5");
      },
      SLOW,
    );
  });

  describe("when compare-and-set runs", () => {
    it(
      "writes the next version when the expected version and token are current",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-1"), 1_000);
        const outcome = await store.compareAndSet(intentOf(tracker, 5), 1);
        expect(outcome).toEqual({ kind: "written", tracker: { ...intentOf(tracker, 5), version: 2 } });
        expect(await store.get("CAS-1")).toEqual({ ...intentOf(tracker, 5), version: 2 });
      },
      SLOW,
    );

    it(
      "refuses a stale version with version-mismatch and the current tracker",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-2"), 1_000);
        await store.compareAndSet(intentOf(tracker, 5), 1);
        const outcome = await store.compareAndSet({ ...tracker, symbol: "CHANGED", fencingToken: 5 }, 1);
        expect(outcome.kind).toBe("version-mismatch");
        expect(outcome.kind !== "not-found" && outcome.kind !== "written" && outcome.current.version).toBe(2);
      },
      SLOW,
    );

    it(
      "refuses an older fencing token with fenced, even at the current version",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-3"), 1_000);
        const intent = await store.compareAndSet(intentOf(tracker, 9), 1);
        if (intent.kind !== "written") throw new Error(intent.kind);
        const outcome = await store.compareAndSet(exitedOf({ ...intent.tracker, fencingToken: 8 }), intent.tracker.version);
        expect(outcome).toEqual({ kind: "fenced", current: intent.tracker });
        expect(await store.get("CAS-3")).toEqual(intent.tracker);
      },
      SLOW,
    );

    it(
      "accepts a write carrying the same fencing token as the stored one",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-4"), 1_000);
        const intent = await store.compareAndSet(intentOf(tracker, 9), 1);
        if (intent.kind !== "written") throw new Error(intent.kind);
        expect((await store.compareAndSet(exitedOf(intent.tracker), intent.tracker.version)).kind).toBe("written");
      },
      SLOW,
    );

    it(
      "throws illegal-transition for a status change outside the table and changes nothing",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-5"), 1_000);
        await expect(store.compareAndSet({ ...tracker, status: TrackerStatus.EXITED }, 1)).rejects.toMatchObject({
          code: "illegal-transition",
        });
        await expect(store.compareAndSet({ ...tracker, status: TrackerStatus.PENDING }, 1)).rejects.toMatchObject({
          code: "illegal-transition",
        });
        expect(await store.get("CAS-5")).toEqual(tracker);
      },
      SLOW,
    );

    it(
      "refuses an exited quantity above the quantity with invalid-argument",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-6"), 1_000);
        await expect(store.compareAndSet({ ...tracker, exitedQuantity: new Money("10.5") }, 1)).rejects.toMatchObject({
          code: "invalid-argument",
        });
        expect(await store.get("CAS-6")).toEqual(tracker);
      },
      SLOW,
    );

    it(
      "answers not-found for an unknown tracker",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-7"), 1_000);
        expect(await store.compareAndSet({ ...tracker, orderNo: "CAS-UNKNOWN" }, 1)).toEqual({ kind: "not-found" });
      },
      SLOW,
    );

    it(
      "clears an optional field the next record leaves out",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-8"), 1_000);
        const intent = await store.compareAndSet(intentOf(tracker, 2), 1);
        if (intent.kind !== "written") throw new Error(intent.kind);
        const { exitRequestedAt: _dropped, ...reverted } = { ...intent.tracker, status: TrackerStatus.ACTIVE };
        expect((await store.compareAndSet(reverted, 2)).kind).toBe("written");
        expect((await store.get("CAS-8"))?.exitRequestedAt).toBeUndefined();
      },
      SLOW,
    );

    it(
      "lets exactly one of several concurrent writers from the same version win",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CAS-9"), 1_000);
        const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.compareAndSet(intentOf(tracker, 1 + i), 1)));
        expect(outcomes.filter((outcome) => outcome.kind === "written")).toHaveLength(1);
        expect((await store.get("CAS-9"))?.version).toBe(2);
      },
      SLOW,
    );
  });

  describe("when listing", () => {
    async function seeded(): Promise<TrackerStore> {
      const store = await makeStore();
      for (let i = 1; i <= 7; i++) {
        const segment = i % 2 === 0 ? Segment.NSE_FNO : Segment.NSE_EQ;
        await store.register(trackerSpec(`L-${i}`, { segment, paper: i !== 7 }), 1_000);
      }
      const three = (await store.get("L-3"))!;
      await store.compareAndSet(intentOf(three, 1), three.version);
      return store;
    }

    it(
      "filters by status, segment and paper, in order_no order",
      async () => {
        const store = await seeded();
        const names = async (query: Parameters<TrackerStore["list"]>[0]) =>
          (await store.list(query, { limit: 100 })).trackers.map((tracker) => tracker.orderNo);
        expect(await names({})).toEqual(["L-1", "L-2", "L-3", "L-4", "L-5", "L-6", "L-7"]);
        expect(await names({ status: TrackerStatus.EXITING })).toEqual(["L-3"]);
        expect(await names({ status: TrackerStatus.ACTIVE })).toEqual(["L-1", "L-2", "L-4", "L-5", "L-6", "L-7"]);
        expect(await names({ segment: Segment.NSE_FNO })).toEqual(["L-2", "L-4", "L-6"]);
        expect(await names({ status: TrackerStatus.ACTIVE, segment: Segment.NSE_EQ })).toEqual(["L-1", "L-5", "L-7"]);
        expect(await names({ paper: false })).toEqual(["L-7"]);
      },
      SLOW,
    );

    it(
      "pages through every match once, with a cursor only while more remain",
      async () => {
        const store = await seeded();
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.list({ status: TrackerStatus.ACTIVE }, { limit: 4, ...(after !== undefined ? { after } : {}) });
          seen.push(...page.trackers.map((tracker) => tracker.orderNo));
          if (page.nextCursor === undefined) break;
          after = page.nextCursor;
        }
        expect(seen).toEqual(["L-1", "L-2", "L-4", "L-5", "L-6", "L-7"]);
        expect((await store.list({}, { limit: 7 })).nextCursor).toBeUndefined();
      },
      SLOW,
    );

    it(
      "lists a tracker registered between pages once the cursor reaches it, and resumes after a cursor no tracker has",
      async () => {
        const store = await seeded();
        const first = await store.list({}, { limit: 3 });
        expect(first.trackers.map((tracker) => tracker.orderNo)).toEqual(["L-1", "L-2", "L-3"]);
        await store.register(trackerSpec("L-0"), 2_000);
        await store.register(trackerSpec("L-45"), 2_000);
        const second = await store.list({}, { limit: 3, after: first.nextCursor! });
        expect(second.trackers.map((tracker) => tracker.orderNo)).toEqual(["L-4", "L-45", "L-5"]);
        const resumed = await store.list({}, { limit: 10, after: "L-44" });
        expect(resumed.trackers.map((tracker) => tracker.orderNo)).toEqual(["L-45", "L-5", "L-6", "L-7"]);
      },
      SLOW,
    );
  });

  describe("when looking up by correlation id", () => {
    it(
      "finds the tracker by the id of its current attempt and of its earlier ones",
      async () => {
        const store = await makeStore();
        const { tracker } = await store.register(trackerSpec("CORR-1"), 1_000);
        const first = await store.compareAndSet(intentOf(tracker, 1), 1);
        if (first.kind !== "written") throw new Error(first.kind);
        expect(await store.findByCorrelationId("corr-CORR-1-1")).toEqual(first.tracker);
        const reverted = await store.compareAndSet({ ...first.tracker, status: TrackerStatus.ACTIVE }, 2);
        if (reverted.kind !== "written") throw new Error(reverted.kind);
        const second = await store.compareAndSet(intentOf(reverted.tracker, 1), 3);
        if (second.kind !== "written") throw new Error(second.kind);
        expect(await store.findByCorrelationId("corr-CORR-1-2")).toEqual(second.tracker);
        expect(await store.findByCorrelationId("corr-CORR-1-1")).toEqual(second.tracker);
        expect(await store.findByCorrelationId("unknown")).toBeUndefined();
      },
      SLOW,
    );
  });
});

describe.each(adapters)("%s with an exit plan", (_name, makeStore) => {
  it(
    "keeps the plan and a recorded trigger through register and compare-and-set",
    async () => {
      const store = await makeStore();
      const exitPlan = {
        stopLoss: { kind: "points" as const, value: new Money("12.5") },
        trailingStop: {
          distance: { kind: "percent" as const, value: new Money("1.5") },
          activation: { kind: "price" as const, value: new Money("1510") },
          step: new Money("0.5"),
        },
        peakDrawdown: { giveBackPercent: new Money("40"), minProfit: { kind: "points" as const, value: new Money("3") } },
        timeExit: { kind: "after" as const, afterMs: 90_000 },
        sessionEnd: { kind: "at" as const, localTime: "15:15", timeZone: "Asia/Kolkata" },
        version: 1,
      };
      const { tracker } = await store.register(trackerSpec("PLAN-1", { exitPlan }), 1_000);
      expect((await store.get("PLAN-1"))?.exitPlan).toEqual(exitPlan);
      expect((await store.register(trackerSpec("PLAN-1", { exitPlan: { ...exitPlan } }), 2_000)).created).toBe(false);
      await expect(store.register(trackerSpec("PLAN-1"), 2_000)).rejects.toMatchObject({ code: "conflict" });
      const trigger = { rule: 1, level: new Money("1488.05"), tickPrice: new Money("1488"), tickTimeMs: 5_000, planVersion: 1 };
      const written = await store.compareAndSet({ ...intentOf(tracker, 1), trigger }, tracker.version);
      expect(written.kind).toBe("written");
      expect(await store.get("PLAN-1")).toMatchObject({ trigger, exitPlan });
    },
    SLOW,
  );
});
