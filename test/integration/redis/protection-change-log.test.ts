/**
 * Two processes' protective exits on one Redis, each with its own
 * connections (as two tradingcore processes have), following each other
 * through the protection change log: registrations, plan changes, exits and
 * a rejected exit's return to ACTIVE reach the other book on its next
 * refresh, which reads only the trackers the log names; a reader the capped
 * log left behind reads everything once and misses nothing.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ExitPlan, ExitPlanRules } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import type { TrackerRecord, TrackerSpec } from "../../../src/domain/tracker.js";
import type { CompareAndSetOutcome, ProtectionStates, TrackerPage, TrackerQuery, TrackerStore } from "../../../src/exit/ports.js";
import { changeExitPlan } from "../../../src/protection/exit-plan-change.js";
import { ProtectiveExits } from "../../../src/protection/protective-exits.js";
import { RedisProtectionChangeLog } from "../../../src/store/redis-protection-change-log.js";
import { RedisProtectionStates } from "../../../src/store/redis-protection-states.js";
import { RedisTrackerStore } from "../../../src/store/redis-tracker-store.js";
import { intentOf, quietLog, trackerSpec, written } from "../../support/exit-fixtures.js";
import { ManualClock } from "../../support/manual-clock.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);
const STOP_AT_98: ExitPlan = { stopLoss: { kind: "price", value: new Money("98") }, version: 1 };
const STOP_AT_95: ExitPlanRules = { stopLoss: { kind: "price", value: new Money("95") } };

/** The store as the refresh sees it, counting the calls it makes; `beforeList` runs inside each `list`, after the page was read. */
class CountingTrackerStore implements TrackerStore {
  readonly calls = { get: 0, list: 0 };
  beforeList: (() => Promise<void>) | undefined;

  constructor(private readonly inner: TrackerStore) {}

  register(spec: TrackerSpec, nowMs: number) {
    return this.inner.register(spec, nowMs);
  }
  get(orderNo: string): Promise<TrackerRecord | undefined> {
    this.calls.get += 1;
    return this.inner.get(orderNo);
  }
  compareAndSet(next: TrackerRecord, expectedVersion: number): Promise<CompareAndSetOutcome> {
    return this.inner.compareAndSet(next, expectedVersion);
  }
  async list(query: TrackerQuery, page: { after?: string; limit: number }): Promise<TrackerPage> {
    this.calls.list += 1;
    const read = await this.inner.list(query, page);
    await this.beforeList?.();
    return read;
  }
  findByCorrelationId(correlationId: string) {
    return this.inner.findByCorrelationId(correlationId);
  }
  reset(): void {
    this.calls.get = 0;
    this.calls.list = 0;
  }
}

interface Process {
  readonly store: CountingTrackerStore;
  readonly states: ProtectionStates;
  readonly protective: ProtectiveExits;
  readonly clock: ManualClock;
  /** Holds this process's trigger claims until called; from then on they go straight through. */
  holdClaims(): () => void;
}

/** One process's store and protective exits in `keyPrefix`, on connections of its own. */
async function processOn(keyPrefix: string, changeLogMaxLength?: number): Promise<Process> {
  const client = await redis().client();
  const store = new CountingTrackerStore(
    new RedisTrackerStore(client, { keyPrefix, ...(changeLogMaxLength ? { changeLogMaxLength } : {}) }),
  );
  const inner = new RedisProtectionStates(client, keyPrefix, 2_000);
  let held: Promise<void> | undefined;
  const states: ProtectionStates = {
    get: (orderNos) => inner.get(orderNos),
    advance: (orderNo, side, state) => inner.advance(orderNo, side, state),
    advanceMany: (entries) => inner.advanceMany(entries),
    remove: (orderNo) => inner.remove(orderNo),
    claimTrigger: async (orderNo, claim, ttlMs) => {
      await held;
      return inner.claimTrigger(orderNo, claim, ttlMs);
    },
  };
  const clock = new ManualClock();
  const protective = new ProtectiveExits(
    {
      engine: { execute: () => Promise.reject(new Error("no exit is run in these tests")) },
      store,
      states,
      changes: new RedisProtectionChangeLog(await redis().client(), keyPrefix, 2_000),
      events: { publish() {} },
      clock,
      log: quietLog,
    },
    { staleAfterMs: 5_000, refreshMs: 60_000, flushMs: 60_000, parallel: 1, queued: 10, claimTtlMs: 30_000, retryMs: 1_000 },
  );
  const holdClaims = () => {
    let open = () => {};
    held = new Promise<void>((resolve) => (open = resolve));
    return open;
  };
  return { store, states: inner, protective, clock, holdClaims };
}

async function fleetOf(changeLogMaxLength?: number): Promise<[Process, Process]> {
  const keyPrefix = `test:${randomUUID()}:`;
  return [await processOn(keyPrefix, changeLogMaxLength), await processOn(keyPrefix, changeLogMaxLength)];
}

async function registered(process: Process, orderNo: string, exitPlan: ExitPlan | null = STOP_AT_98): Promise<TrackerRecord> {
  const { tracker } = await process.store.register(trackerSpec(orderNo, exitPlan ? { exitPlan } : {}), 1_000);
  process.protective.watch(tracker);
  return tracker;
}

const planVersionIn = (process: Process, orderNo: string) => process.protective.book.get(orderNo)?.rules.planVersion;

describe("protective exits of two processes on one Redis, following the change log", () => {
  it(
    "sees the other's registrations, plan changes, exits and returns to ACTIVE on its next refresh",
    async () => {
      const [a, b] = await fleetOf();
      await a.protective.start();
      await b.protective.start();
      const tracker = await registered(a, "LOG-1");
      expect(planVersionIn(b, "LOG-1")).toBeUndefined();
      await b.protective.sync.refresh();
      expect(planVersionIn(b, "LOG-1")).toBe(1);

      const changed = await changeExitPlan(a.store, tracker, STOP_AT_95, 1, 2_000);
      a.protective.watch(changed);
      await b.protective.sync.refresh();
      expect(b.protective.book.get("LOG-1")?.tracker.exitPlan?.stopLoss?.value.toFixed()).toBe("95");
      expect(planVersionIn(b, "LOG-1")).toBe(2);

      const exiting = await written(a.store, intentOf(changed), 2);
      await b.protective.sync.refresh();
      expect(b.protective.book.get("LOG-1")).toBeUndefined();

      // The broker rejected the exit: ACTIVE again, protected again.
      const back = await written(a.store, { ...exiting, status: TrackerStatus.ACTIVE }, 3);
      await b.protective.sync.refresh();
      expect(planVersionIn(b, "LOG-1")).toBe(2);

      // And the other way round: b removes the plan, a stops protecting it.
      await a.protective.sync.refresh();
      await changeExitPlan(b.store, back, undefined, 4, 3_000);
      await a.protective.sync.refresh();
      expect(a.protective.book.get("LOG-1")).toBeUndefined();
    },
    SLOW,
  );

  it(
    "reads no tracker on a refresh with no change, and only those the log names otherwise",
    async () => {
      const [a, b] = await fleetOf();
      for (let i = 0; i < 40; i++) await registered(a, `QUIET-${i}`);
      await registered(a, "BARE-1", null);
      await b.protective.start();
      expect(b.protective.book.size).toBe(40);
      b.store.reset();
      await b.protective.sync.refresh();
      expect(b.store.calls).toEqual({ get: 0, list: 0 });

      await registered(a, "NEW-1");
      const exited = await a.store.get("QUIET-7");
      await written(a.store, intentOf(exited!), exited!.version);
      await b.protective.sync.refresh();
      expect(b.store.calls).toEqual({ get: 2, list: 0 });
      expect(b.protective.book.get("NEW-1")).toBeDefined();
      expect(b.protective.book.get("QUIET-7")).toBeUndefined();
      expect(b.protective.book.size).toBe(40);
    },
    SLOW,
  );

  it(
    "does not read again a change the book already holds, such as a plan set through the same process",
    async () => {
      const [a, b] = await fleetOf();
      await b.protective.start();
      await a.protective.start();
      await registered(b, "OWN-1");
      b.store.reset();
      await b.protective.sync.refresh();
      expect(b.store.calls).toEqual({ get: 0, list: 0 });
      expect(planVersionIn(b, "OWN-1")).toBe(1);
    },
    SLOW,
  );

  it(
    "reads every protected tracker once when the capped log dropped entries it had not read, and misses none",
    async () => {
      const [a, b] = await fleetOf(10);
      await b.protective.start();
      const gone = await registered(a, "GONE-1");
      await b.protective.sync.refresh();
      expect(b.protective.book.get("GONE-1")).toBeDefined();
      // Far more changes than the log keeps, while b does not refresh: some it never reads.
      for (let i = 0; i < 300; i++) await registered(a, `BURST-${i}`);
      await written(a.store, intentOf(gone), 1);
      b.store.reset();
      await b.protective.sync.refresh();
      expect(b.store.calls.list).toBeGreaterThan(0);
      expect(b.protective.book.size).toBe(300);
      expect(b.protective.book.get("GONE-1")).toBeUndefined();
      expect(b.protective.book.get("BURST-0")).toBeDefined();

      // Back on the log: the next change is read alone.
      b.store.reset();
      await registered(a, "AFTER-1");
      await b.protective.sync.refresh();
      expect(b.store.calls).toEqual({ get: 1, list: 0 });
      expect(b.protective.book.get("AFTER-1")).toBeDefined();
    },
    SLOW,
  );

  it(
    "keeps a change written while its full read runs, for the refresh after it",
    async () => {
      const [a, b] = await fleetOf();
      const tracker = await registered(a, "DURING-1");
      // Written after b's full read took its page and before that read ends: the page holds the old plan.
      b.store.beforeList = async () => {
        b.store.beforeList = undefined;
        await changeExitPlan(a.store, tracker, STOP_AT_95, 1, 2_000);
      };
      await b.protective.start();
      expect(planVersionIn(b, "DURING-1")).toBe(1);
      await b.protective.sync.refresh();
      expect(planVersionIn(b, "DURING-1")).toBe(2);
    },
    SLOW,
  );

  it(
    "stops protecting a tracker exited elsewhere while its own trigger was waiting for the claim the other process won",
    async () => {
      const [a, b] = await fleetOf();
      const tracker = await registered(a, "RACE-1");
      await b.protective.start();
      const open = b.holdClaims();
      b.protective.book.write([{ segment: tracker.segment, securityId: tracker.securityId, ltp: new Money("97"), timeMs: b.clock.now() }]);
      expect(b.protective.book.get("RACE-1")?.firing).toBe(true);
      // The other process claimed the same trigger and exits the tracker.
      expect(await a.states.claimTrigger("RACE-1", "1:1", 30_000)).toBe(true);
      const exiting = await written(a.store, intentOf(tracker), 1);
      await b.protective.sync.refresh();
      // EXITING to EXITED: no entry in the log.
      await written(a.store, { ...exiting, status: TrackerStatus.EXITED, exitedQuantity: exiting.quantity }, 2);
      open();
      await b.protective.worker.whenIdle();
      expect(b.protective.worker.counters.claimLost).toBe(1);
      expect(b.protective.book.get("RACE-1")?.firing).toBe(false);
      await b.protective.sync.refresh();
      expect(b.protective.book.get("RACE-1")).toBeUndefined();
    },
    SLOW,
  );
});
