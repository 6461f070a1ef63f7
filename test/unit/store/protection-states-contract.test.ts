/**
 * The ProtectionStates contract, run against every adapter: states move
 * forward only, one at a time or many in one call, and one claim of a
 * trigger wins until it lapses.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Side } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ProtectionState } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import type { ProtectionStates } from "../../../src/exit/ports.js";
import { MemoryProtectionStates } from "../../../src/store/memory-protection-states.js";
import { RedisProtectionStates } from "../../../src/store/redis-protection-states.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);

const adapters: Array<[string, () => Promise<ProtectionStates>]> = [
  ["MemoryProtectionStates", async () => new MemoryProtectionStates()],
  ["RedisProtectionStates", async () => new RedisProtectionStates(await redis().client(), `test:${randomUUID()}:`, 2_000)],
];

function state(overrides: Partial<ProtectionState> = {}): ProtectionState {
  return {
    planVersion: 1,
    trailArmed: true,
    trailHighWater: new Money("105.25"),
    trailLevel: new Money("100.25"),
    peakArmed: false,
    peakProfit: new Money("5.25"),
    lastTickTimeMs: 2_000,
    lastTickPrice: new Money("104"),
    ...overrides,
  };
}

describe.each(adapters)("%s", (_name, make) => {
  it(
    "stores a first state as given and answers it back",
    async () => {
      const states = await make();
      expect(await states.advance("A", Side.LONG, state())).toEqual(state());
      expect((await states.get(["A", "missing"])).get("A")).toEqual(state());
      expect((await states.get(["missing"])).size).toBe(0);
    },
    SLOW,
  );

  it(
    "never moves a LONG's trail down or its peak down, and keeps it armed",
    async () => {
      const states = await make();
      await states.advance("A", Side.LONG, state());
      const after = await states.advance(
        "A",
        Side.LONG,
        state({
          trailArmed: false,
          trailHighWater: new Money("103"),
          trailLevel: new Money("98"),
          peakProfit: new Money("3"),
          lastTickTimeMs: 3_000,
        }),
      );
      expect(after).toEqual(state({ lastTickTimeMs: 3_000 }));
    },
    SLOW,
  );

  it(
    "moves a SHORT's trail only down",
    async () => {
      const states = await make();
      await states.advance("S", Side.SHORT, state({ trailHighWater: new Money("95"), trailLevel: new Money("100") }));
      const lower = await states.advance(
        "S",
        Side.SHORT,
        state({ trailHighWater: new Money("94.5"), trailLevel: new Money("99.5"), lastTickTimeMs: 2_500 }),
      );
      expect(lower.trailLevel?.toFixed()).toBe("99.5");
      const higher = await states.advance(
        "S",
        Side.SHORT,
        state({ trailHighWater: new Money("97"), trailLevel: new Money("102"), lastTickTimeMs: 2_600 }),
      );
      expect(higher.trailLevel?.toFixed()).toBe("99.5");
      expect(higher.trailHighWater?.toFixed()).toBe("94.5");
    },
    SLOW,
  );

  it(
    "answers the very state given when it is what the store now holds, so the caller has nothing to merge back",
    async () => {
      const states = await make();
      await states.advance("A", Side.LONG, state());
      const further = state({ trailHighWater: new Money("106"), trailLevel: new Money("101"), lastTickTimeMs: 3_000 });
      expect(await states.advance("A", Side.LONG, further)).toBe(further);
      const [again] = await states.advanceMany([{ orderNo: "A", side: Side.LONG, state: further }]);
      expect(again).toBe(further);
      const behind = state({ trailHighWater: new Money("104"), trailLevel: new Money("99"), lastTickTimeMs: 3_500 });
      const merged = await states.advance("A", Side.LONG, behind);
      expect(merged).not.toBe(behind);
      expect(merged.trailLevel?.toFixed()).toBe("101");
    },
    SLOW,
  );

  it(
    "ignores a state evaluated at an older tick",
    async () => {
      const states = await make();
      await states.advance("A", Side.LONG, state({ lastTickTimeMs: 5_000 }));
      const after = await states.advance("A", Side.LONG, state({ trailLevel: new Money("101"), lastTickTimeMs: 4_999 }));
      expect(after).toEqual(state({ lastTickTimeMs: 5_000 }));
    },
    SLOW,
  );

  it(
    "replaces the state whole for a newer plan version, and ignores an older version's",
    async () => {
      const states = await make();
      await states.advance("A", Side.LONG, state({ planVersion: 2 }));
      expect(await states.advance("A", Side.LONG, state({ planVersion: 1, trailLevel: new Money("104") }))).toEqual(
        state({ planVersion: 2 }),
      );
      const fresh: ProtectionState = { planVersion: 3, trailArmed: false, peakArmed: false };
      expect(await states.advance("A", Side.LONG, fresh)).toEqual(fresh);
      // Read back: the old version's levels are gone from the store, not only from the answer.
      expect((await states.get(["A"])).get("A")).toEqual(fresh);
    },
    SLOW,
  );

  it(
    "advances many states in one call, each forward only, and answers them in the order given",
    async () => {
      const states = await make();
      await states.advance("A", Side.LONG, state({ lastTickTimeMs: 5_000 }));
      const answered = await states.advanceMany([
        { orderNo: "A", side: Side.LONG, state: state({ trailLevel: new Money("99"), lastTickTimeMs: 6_000 }) },
        { orderNo: "B", side: Side.SHORT, state: state({ trailHighWater: new Money("95"), trailLevel: new Money("100") }) },
        { orderNo: "C", side: Side.LONG, state: state({ planVersion: 2 }) },
      ]);
      expect(answered).toEqual([
        state({ lastTickTimeMs: 6_000 }),
        state({ trailHighWater: new Money("95"), trailLevel: new Money("100") }),
        state({ planVersion: 2 }),
      ]);
      const stored = await states.get(["A", "B", "C"]);
      expect(stored.get("A")).toEqual(state({ lastTickTimeMs: 6_000 }));
      expect(stored.get("B")?.trailLevel?.toFixed()).toBe("100");
      expect(stored.get("C")?.planVersion).toBe(2);
      expect(await states.advanceMany([])).toEqual([]);
    },
    SLOW,
  );

  it(
    "advances hundreds of states in one call, each merged with its own stored state and answered in its place",
    async () => {
      const states = await make();
      const count = 250;
      const orderNo = (index: number) => `M${index}`;
      // Every third one is stored further already; every fifth has a newer plan version stored.
      const ahead = (index: number) => index % 3 === 0;
      const newerPlan = (index: number) => index % 5 === 0 && !ahead(index);
      for (let index = 0; index < count; index++) {
        if (ahead(index))
          await states.advance(orderNo(index), Side.LONG, state({ trailLevel: new Money(200 + index), lastTickTimeMs: 1_000 }));
        if (newerPlan(index)) await states.advance(orderNo(index), Side.LONG, state({ planVersion: 9 }));
      }
      const sent = Array.from({ length: count }, (_, index) => state({ trailLevel: new Money(100 + index), lastTickTimeMs: 3_000 }));
      const answered = await states.advanceMany(sent.map((one, index) => ({ orderNo: orderNo(index), side: Side.LONG, state: one })));
      expect(answered).toHaveLength(count);
      answered.forEach((one, index) => {
        if (ahead(index)) expect([index, one]).toEqual([index, state({ trailLevel: new Money(200 + index), lastTickTimeMs: 3_000 })]);
        else if (newerPlan(index)) expect([index, one]).toEqual([index, state({ planVersion: 9 })]);
        else expect([index, one]).toEqual([index, sent[index]]);
      });
      const stored = await states.get(Array.from({ length: count }, (_, index) => orderNo(index)));
      for (const [index, one] of answered.entries()) expect([index, stored.get(orderNo(index))]).toEqual([index, one]);
    },
    SLOW,
  );

  it(
    "takes a state written from the stored one as it is, and merges one whose basis another write replaced",
    async () => {
      const states = await make();
      const [first] = await states.advanceMany([{ orderNo: "A", side: Side.LONG, state: state() }]);
      const raised = state({ trailHighWater: new Money("107"), trailLevel: new Money("102"), lastTickTimeMs: 3_000 });
      expect(await states.advanceMany([{ orderNo: "A", side: Side.LONG, state: raised, basis: first }])).toEqual([raised]);
      // Another writer moves the trail further; a write whose basis is the state it replaced is merged forward.
      const further = state({ trailHighWater: new Money("110"), trailLevel: new Money("105"), lastTickTimeMs: 4_000 });
      await states.advance("A", Side.LONG, further);
      const behind = state({ trailHighWater: new Money("108"), trailLevel: new Money("103"), lastTickTimeMs: 5_000 });
      const [answered] = await states.advanceMany([{ orderNo: "A", side: Side.LONG, state: behind, basis: raised }]);
      expect(answered).toEqual(state({ trailHighWater: new Money("110"), trailLevel: new Money("105"), lastTickTimeMs: 5_000 }));
      expect((await states.get(["A"])).get("A")).toEqual(answered);
    },
    SLOW,
  );

  it(
    "lets one claim of a trigger win, and another trigger be claimed",
    async () => {
      const states = await make();
      expect(await states.claimTrigger("A", "2:1", 60_000)).toBe(true);
      expect(await states.claimTrigger("A", "2:1", 60_000)).toBe(false);
      expect(await states.claimTrigger("A", "2:2", 60_000)).toBe(true);
    },
    SLOW,
  );

  it(
    "forgets a removed tracker's state",
    async () => {
      const states = await make();
      await states.advance("A", Side.LONG, state());
      await states.remove("A");
      expect((await states.get(["A"])).size).toBe(0);
    },
    SLOW,
  );
});

describe("MemoryProtectionStates claims", () => {
  it("lapse after their TTL on the injected clock", async () => {
    let now = 1_000;
    const states = new MemoryProtectionStates(() => now);
    expect(await states.claimTrigger("A", "1:1", 500)).toBe(true);
    now = 1_499;
    expect(await states.claimTrigger("A", "1:1", 500)).toBe(false);
    now = 1_500;
    expect(await states.claimTrigger("A", "1:1", 500)).toBe(true);
  });
});
