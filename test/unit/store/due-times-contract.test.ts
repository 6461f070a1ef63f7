/**
 * The DueTimes contract, run against every adapter: what the time-exit
 * scheduler relies on whichever store is configured. Time is each call's
 * argument; nothing waits on a clock.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { DueTimes } from "../../../src/protection/due-times.js";
import { MemoryDueTimes } from "../../../src/store/memory-due-times.js";
import { RedisDueTimes } from "../../../src/store/redis-due-times.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);
const T0 = Date.parse("2026-03-02T09:45:00Z");
const LEASE = 30_000;

/** The adapter, and a second view of the same entries, as another process has. */
const adapters: Array<[string, () => Promise<{ due: DueTimes; other: () => Promise<DueTimes> }>]> = [
  [
    "MemoryDueTimes",
    async () => {
      const due = new MemoryDueTimes();
      return { due, other: async () => due };
    },
  ],
  [
    "RedisDueTimes",
    async () => {
      const prefix = `test:${randomUUID()}:`;
      const make = async () => new RedisDueTimes(await redis().client(), prefix, 2_000);
      return { due: await make(), other: make };
    },
  ],
];

describe.each(adapters)("%s", (_name, makeStores) => {
  it(
    "hands out nothing before its due time, and the entry at it",
    async () => {
      const { due } = await makeStores();
      await due.schedule("TIME_EXIT|A", T0);
      expect(await due.claimDue(T0 - 1, LEASE, 10)).toEqual([]);
      expect(await due.claimDue(T0, LEASE, 10)).toEqual([{ key: "TIME_EXIT|A", dueMs: T0, leaseUntilMs: T0 + LEASE }]);
    },
    SLOW,
  );

  it(
    "hands each due time to one claimer among several at once",
    async () => {
      const { due, other } = await makeStores();
      const views = [due, await other(), await other()];
      for (let i = 0; i < 20; i++) await due.schedule(`TIME_EXIT|T${i}`, T0 + i);
      const claims = (await Promise.all(views.map((view) => view.claimDue(T0 + 100, LEASE, 100)))).flat();
      expect(claims.map((claim) => claim.key).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `TIME_EXIT|T${i}`).sort());
    },
    SLOW,
  );

  it(
    "hands a claim out again once its lease passes without completion, and never after it completed",
    async () => {
      const { due } = await makeStores();
      await due.schedule("SESSION_END|A", T0);
      const [claim] = await due.claimDue(T0, LEASE, 10);
      expect(await due.claimDue(T0 + LEASE - 1, LEASE, 10)).toEqual([]);
      const [again] = await due.claimDue(T0 + LEASE, LEASE, 10);
      expect(again).toMatchObject({ key: "SESSION_END|A", dueMs: T0 + LEASE });
      await due.complete(claim!); // the first claim's lease is over: it completes nothing
      expect(await due.dueTimeOf("SESSION_END|A")).toBe(T0 + 2 * LEASE);
      await due.complete(again!);
      expect(await due.dueTimeOf("SESSION_END|A")).toBeUndefined();
      expect(await due.claimDue(T0 + 10 * LEASE, LEASE, 10)).toEqual([]);
    },
    SLOW,
  );

  it(
    "keeps an entry scheduled anew while it was claimed",
    async () => {
      const { due } = await makeStores();
      await due.schedule("TIME_EXIT|A", T0);
      const [claim] = await due.claimDue(T0, LEASE, 10);
      await due.schedule("TIME_EXIT|A", T0 + 3_600_000);
      await due.complete(claim!);
      expect(await due.dueTimeOf("TIME_EXIT|A")).toBe(T0 + 3_600_000);
    },
    SLOW,
  );

  it(
    "claims the earliest first, at most `limit` at once",
    async () => {
      const { due } = await makeStores();
      await due.schedule("c", T0 + 2);
      await due.schedule("a", T0);
      await due.schedule("b", T0 + 1);
      expect((await due.claimDue(T0 + 5, LEASE, 2)).map((claim) => claim.key)).toEqual(["a", "b"]);
      expect((await due.claimDue(T0 + 5, LEASE, 2)).map((claim) => claim.key)).toEqual(["c"]);
    },
    SLOW,
  );

  it(
    "forgets a cancelled entry",
    async () => {
      const { due } = await makeStores();
      await due.schedule("a", T0);
      await due.cancel("a");
      expect(await due.claimDue(T0 + 1, LEASE, 10)).toEqual([]);
      expect(await due.dueTimeOf("a")).toBeUndefined();
    },
    SLOW,
  );

  it(
    "hands out many entries, scheduled, moved and cancelled in any order, earliest first, `limit` at a time, each once per due time",
    async () => {
      const { due } = await makeStores();
      const expected = new Map<string, number>();
      let seed = 7;
      const next = (below: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % below;
      };
      for (let i = 0; i < 300; i++) {
        const key = `TIME_EXIT|K${next(120)}`;
        if (next(5) === 0) {
          await due.cancel(key);
          expected.delete(key);
        } else {
          const at = T0 + next(50) * 10;
          await due.schedule(key, at);
          expected.set(key, at);
        }
      }
      const order = [...expected].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1));
      const claimed: Array<[string, number]> = [];
      for (let pass = 0; pass < 20; pass++) {
        const claims = await due.claimDue(T0 + 1_000, LEASE, 7);
        expect(claims.length).toBeLessThanOrEqual(7);
        claimed.push(...claims.map((claim): [string, number] => [claim.key, claim.dueMs]));
      }
      expect(claimed).toEqual(order);
      // Each now leased until T0 + 1,000 + LEASE, all at once.
      const again = await due.claimDue(T0 + 1_000 + LEASE, LEASE, 500);
      expect(again.map((claim) => claim.key)).toEqual([...expected.keys()].sort());
    },
    SLOW,
  );

  it(
    "hands out an entry scheduled twice at one time once",
    async () => {
      const { due } = await makeStores();
      await due.schedule("a", T0);
      await due.schedule("a", T0 + 5);
      await due.schedule("a", T0);
      expect((await due.claimDue(T0 + 10, LEASE, 10)).map((claim) => claim.key)).toEqual(["a"]);
      expect(await due.claimDue(T0 + 10, LEASE, 10)).toEqual([]);
    },
    SLOW,
  );
});
