/**
 * The ProtectionChangeLog contract, run against every adapter with the
 * tracker store that appends to it: the writes that matter to protection
 * are logged with the version they wrote, the others are not, a reader
 * reads each entry once and in order, and a reader the cap left behind is
 * told so.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ExitPlan } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import type { TrackerStore } from "../../../src/exit/ports.js";
import { changeExitPlan } from "../../../src/protection/exit-plan-change.js";
import type { ChangeLogPosition, ProtectionChange, ProtectionChangeLog } from "../../../src/protection/protection-change-log.js";
import { MemoryProtectionChangeLog } from "../../../src/store/memory-protection-change-log.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { RedisProtectionChangeLog } from "../../../src/store/redis-protection-change-log.js";
import { RedisTrackerStore } from "../../../src/store/redis-tracker-store.js";
import { intentOf, trackerSpec, written } from "../../support/exit-fixtures.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);
const STOP_AT_98: ExitPlan = { stopLoss: { kind: "price", value: new Money("98") }, version: 1 };

interface Pair {
  readonly store: TrackerStore;
  readonly log: ProtectionChangeLog;
}

const adapters: Array<[string, (maxLength?: number) => Promise<Pair>]> = [
  [
    "MemoryProtectionChangeLog",
    async (maxLength) => {
      const log = new MemoryProtectionChangeLog(maxLength);
      return { store: new MemoryTrackerStore(log), log };
    },
  ],
  [
    "RedisProtectionChangeLog",
    async (maxLength) => {
      const keyPrefix = `test:${randomUUID()}:`;
      const store = new RedisTrackerStore(await redis().client(), { keyPrefix, ...(maxLength ? { changeLogMaxLength: maxLength } : {}) });
      // Its own connection, as another process reads the log.
      return { store, log: new RedisProtectionChangeLog(await redis().client(), keyPrefix, 2_000) };
    },
  ],
];

async function readAll(
  log: ProtectionChangeLog,
  from: ChangeLogPosition,
): Promise<{ changes: ProtectionChange[]; position: ChangeLogPosition }> {
  const read = await log.read(from, 1_000);
  if (read.kind === "gap") throw new Error("unexpected gap");
  return { changes: [...read.changes], position: read.position };
}

describe.each(adapters)("%s", (_name, make) => {
  it(
    "logs a registration with a plan, at version 1, and not one without a plan",
    async () => {
      const { store, log } = await make();
      const start = await log.tip();
      await store.register(trackerSpec("PLAN-1", { exitPlan: STOP_AT_98 }), 1_000);
      await store.register(trackerSpec("BARE-1"), 1_000);
      // The same spec again changes nothing, and logs nothing.
      await store.register(trackerSpec("PLAN-1", { exitPlan: STOP_AT_98 }), 2_000);
      expect((await readAll(log, start)).changes).toEqual([{ orderNo: "PLAN-1", version: 1 }]);
    },
    SLOW,
  );

  it(
    "logs a plan set, changed and removed, with the version each wrote",
    async () => {
      const { store, log } = await make();
      const { tracker } = await store.register(trackerSpec("CHG-1"), 1_000);
      const start = await log.tip();
      const set = await changeExitPlan(store, tracker, { stopLoss: { kind: "price", value: new Money("97") } }, 1, 2_000);
      const changed = await changeExitPlan(store, set, { stopLoss: { kind: "price", value: new Money("96") } }, 2, 3_000);
      await changeExitPlan(store, changed, undefined, 3, 4_000);
      expect((await readAll(log, start)).changes).toEqual([
        { orderNo: "CHG-1", version: 2 },
        { orderNo: "CHG-1", version: 3 },
        { orderNo: "CHG-1", version: 4 },
      ]);
    },
    SLOW,
  );

  it(
    "logs leaving ACTIVE and coming back to it, and not a write that keeps the status and the plan",
    async () => {
      const { store, log } = await make();
      const { tracker } = await store.register(trackerSpec("EX-1", { exitPlan: STOP_AT_98 }), 1_000);
      const start = await log.tip();
      const exiting = await written(store, intentOf(tracker), 1);
      // A partial fill while EXITING: not a change to protection.
      const filled = await written(store, { ...exiting, exitedQuantity: new Money("4") }, 2);
      const back = await written(store, { ...filled, status: TrackerStatus.ACTIVE }, 3);
      await written(store, { ...back, updatedAt: 9_000 }, 4);
      const exitingAgain = await written(store, intentOf(back), 5);
      await written(store, { ...exitingAgain, status: TrackerStatus.EXITED, exitedQuantity: exitingAgain.quantity }, 6);
      expect((await readAll(log, start)).changes).toEqual([
        { orderNo: "EX-1", version: 2 },
        { orderNo: "EX-1", version: 4 },
        { orderNo: "EX-1", version: 6 },
      ]);
    },
    SLOW,
  );

  it(
    "answers nothing from the tip, and each later entry once, in order, page by page",
    async () => {
      const { store, log } = await make();
      await store.register(trackerSpec("OLD-1", { exitPlan: STOP_AT_98 }), 1_000);
      let position = await log.tip();
      expect(await log.read(position, 10)).toEqual({ kind: "changes", changes: [], position });
      const orderNos = Array.from({ length: 7 }, (_, i) => `PAGE-${i}`);
      for (const orderNo of orderNos) await store.register(trackerSpec(orderNo, { exitPlan: STOP_AT_98 }), 1_000);
      const seen: string[] = [];
      for (let pages = 0; pages < 4; pages++) {
        const read = await log.read(position, 3);
        if (read.kind === "gap") throw new Error("unexpected gap");
        seen.push(...read.changes.map((change) => change.orderNo));
        position = read.position;
      }
      expect(seen).toEqual(orderNos);
    },
    SLOW,
  );

  it(
    "answers a gap to a reader whose next entry the cap dropped, and changes again from a fresh tip",
    async () => {
      const { store, log } = await make(10);
      const behind = await log.tip();
      // Enough for Redis's approximate trim too, which drops whole nodes of 100 entries.
      for (let i = 0; i < 300; i++) await store.register(trackerSpec(`CAP-${i}`, { exitPlan: STOP_AT_98 }), 1_000);
      expect(await log.read(behind, 1_000)).toEqual({ kind: "gap" });
      const tip = await log.tip();
      await store.register(trackerSpec("AFTER-1", { exitPlan: STOP_AT_98 }), 1_000);
      expect((await readAll(log, tip)).changes).toEqual([{ orderNo: "AFTER-1", version: 1 }]);
    },
    SLOW,
  );
});

describe("RedisProtectionChangeLog when the stream it read from is gone", () => {
  it(
    "answers a gap, as after a failover to a replica that lacked its last entry, though the numbers start again",
    async () => {
      const keyPrefix = `test:${randomUUID()}:`;
      const client = await redis().client();
      const store = new RedisTrackerStore(client, { keyPrefix });
      const log = new RedisProtectionChangeLog(await redis().client(), keyPrefix, 2_000);
      const start = await log.tip();
      await store.register(trackerSpec("LOST-1", { exitPlan: STOP_AT_98 }), 1_000);
      const { position } = await readAll(log, start);
      await client.del([`${keyPrefix}protection-changes`, `${keyPrefix}protection-changes:seq`]);
      await store.register(trackerSpec("LOST-2", { exitPlan: STOP_AT_98 }), 1_000);
      await store.register(trackerSpec("LOST-3", { exitPlan: STOP_AT_98 }), 1_000);
      expect(await log.read(position, 1_000)).toEqual({ kind: "gap" });
    },
    SLOW,
  );
});
