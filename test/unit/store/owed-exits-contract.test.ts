/** The OwedExits contract, run against every adapter: what the reconciler relies on to keep its owed retries. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { OwedExits } from "../../../src/exit/ports.js";
import { MemoryOwedExits } from "../../../src/store/memory-owed-exits.js";
import { RedisOwedExits } from "../../../src/store/redis-owed-exits.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);

const adapters: Array<[string, () => Promise<OwedExits>]> = [
  ["MemoryOwedExits", async () => new MemoryOwedExits()],
  ["RedisOwedExits", async () => new RedisOwedExits(await redis().client(), `test:${randomUUID()}:`, 2_000)],
];

describe.each(adapters)("%s", (_name, make) => {
  it(
    "keeps each owed exit with the retries it used, and forgets a settled one",
    async () => {
      const owed = await make();
      await owed.owe("ORD-1");
      await owed.owe("ORD-2");
      await owed.retried("ORD-2", 2);
      expect(await owed.all()).toEqual(
        new Map([
          ["ORD-1", 0],
          ["ORD-2", 2],
        ]),
      );
      await owed.settle("ORD-1");
      expect(await owed.all()).toEqual(new Map([["ORD-2", 2]]));
    },
    SLOW,
  );

  it(
    "keeps the retries used when the same exit is owed again",
    async () => {
      const owed = await make();
      await owed.owe("ORD-1");
      await owed.retried("ORD-1", 1);
      await owed.owe("ORD-1");
      expect(await owed.all()).toEqual(new Map([["ORD-1", 1]]));
    },
    SLOW,
  );

  it(
    "treats settling an exit that is not owed as done",
    async () => {
      const owed = await make();
      await owed.settle("ORD-9");
      expect(await owed.all()).toEqual(new Map());
    },
    SLOW,
  );
});

describe("RedisOwedExits", () => {
  it(
    "is read by another process on the same Redis and prefix",
    async () => {
      const prefix = `test:${randomUUID()}:`;
      const first = new RedisOwedExits(await redis().client(), prefix, 2_000);
      await first.owe("ORD-1");
      await first.retried("ORD-1", 1);
      const second = new RedisOwedExits(await redis().client(), prefix, 2_000);
      expect(await second.all()).toEqual(new Map([["ORD-1", 1]]));
    },
    SLOW,
  );
});
