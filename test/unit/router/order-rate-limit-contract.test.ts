/** The OrderRateLimiter contract, over both adapters: every window enforced, a refusal says when to come back, nothing half-taken. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryOrderRateLimiter, type OrderRateLimiter, parseRateWindows, type RateWindow } from "../../../src/router/order-rate-limit.js";
import { RedisOrderRateLimiter } from "../../../src/router/redis-order-rate-limit.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);
const T0 = 1_760_000_000_000;

const adapters: Array<[string, (windows: RateWindow[]) => Promise<OrderRateLimiter>]> = [
  ["MemoryOrderRateLimiter", async (windows) => new MemoryOrderRateLimiter(windows)],
  ["RedisOrderRateLimiter", async (windows) => new RedisOrderRateLimiter(await redis().client(), `test:${randomUUID()}:limit`, windows)],
];

async function takeAll(limiter: OrderRateLimiter, count: number, nowMs: number): Promise<number> {
  let taken = 0;
  for (let i = 0; i < count; i++) if ((await limiter.tryTake(nowMs)).taken) taken++;
  return taken;
}

describe.each(adapters)("%s", (_name, make) => {
  it(
    "admits a window's whole limit at once, then refuses until its oldest order leaves the window",
    async () => {
      const limiter = await make(parseRateWindows("3/s"));
      expect(await takeAll(limiter, 5, T0)).toBe(3);
      expect(await limiter.tryTake(T0 + 400)).toEqual({ taken: false, retryAfterMs: 600 });
      expect(await limiter.tryTake(T0 + 999)).toEqual({ taken: false, retryAfterMs: 1 });
      expect((await limiter.tryTake(T0 + 1_000)).taken).toBe(true);
    },
    SLOW,
  );

  it(
    "enforces every window: a free second does not lift a full minute, and the wait is the longest window's",
    async () => {
      const limiter = await make(parseRateWindows("2/s,3/m"));
      expect(await takeAll(limiter, 3, T0)).toBe(2);
      expect(await takeAll(limiter, 3, T0 + 1_000)).toBe(1);
      expect(await limiter.tryTake(T0 + 5_000)).toEqual({ taken: false, retryAfterMs: 55_000 });
      expect((await limiter.tryTake(T0 + 60_000)).taken).toBe(true);
    },
    SLOW,
  );

  it(
    "never holds more than the limit in any sliding window, across window boundaries",
    async () => {
      const limiter = await make(parseRateWindows("5/10s"));
      const admitted: number[] = [];
      for (let t = T0; t < T0 + 40_000; t += 700) if ((await limiter.tryTake(t)).taken) admitted.push(t);
      for (const start of admitted) expect(admitted.filter((t) => t >= start && t < start + 10_000).length).toBeLessThanOrEqual(5);
      expect(admitted.length).toBeGreaterThanOrEqual(15);
    },
    SLOW,
  );

  it(
    "takes nothing from any window when one of them refuses",
    async () => {
      const limiter = await make(parseRateWindows("1/s,10/m"));
      expect((await limiter.tryTake(T0)).taken).toBe(true);
      for (let i = 0; i < 20; i++) expect((await limiter.tryTake(T0 + 10)).taken).toBe(false);
      // Had the refusals counted against the minute, it would be full by now.
      expect(await takeAll(limiter, 9, T0 + 1_000)).toBe(1);
      for (let s = 2; s <= 9; s++) expect((await limiter.tryTake(T0 + s * 1_000)).taken).toBe(true);
      expect((await limiter.tryTake(T0 + 10_000)).taken).toBe(false);
    },
    SLOW,
  );
});

describe("RedisOrderRateLimiter shared by two processes", () => {
  it(
    "gives two clients of one account one budget: together they take exactly the limit",
    async () => {
      const key = `test:${randomUUID()}:limit`;
      const windows = parseRateWindows("250/m");
      const a = new RedisOrderRateLimiter(await redis().client(), key, windows);
      const b = new RedisOrderRateLimiter(await redis().client(), key, windows);
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? a : b).tryTake(T0 + i)));
      expect(results.filter((r) => r.taken)).toHaveLength(250);
    },
    SLOW,
  );
});

describe("parseRateWindows", () => {
  it("reads limit/unit lists, with counts of units, and names a bad window", () => {
    expect(parseRateWindows("10/s, 250/m,1000/h,7000/d")).toEqual([
      { limit: 10, periodMs: 1_000 },
      { limit: 250, periodMs: 60_000 },
      { limit: 1_000, periodMs: 3_600_000 },
      { limit: 7_000, periodMs: 86_400_000 },
    ]);
    expect(parseRateWindows("5/10s")).toEqual([{ limit: 5, periodMs: 10_000 }]);
    expect(parseRateWindows("")).toEqual([]);
    expect(() => parseRateWindows("10/w")).toThrow(/"10\/w"/);
    expect(() => parseRateWindows("0/s")).toThrow(/at least one/);
  });
});
