/**
 * The tick cache contract (TickSink + TickSource), run against every adapter:
 * what the LTP chain may rely on whichever cache a process has (memory, and
 * Redis, shared by the processes of a fleet).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PriceSource, Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import { createRedisTickClient, type RedisTickClient } from "../../../src/ticks/redis-tick-client.js";
import { RedisTickCache } from "../../../src/ticks/redis-tick-cache.js";
import type { TickSink, TickSource } from "../../../src/ticks/tick.js";
import { RedisServer } from "../../support/redis-server.js";

const SLOW = 60_000;

interface CacheUnderTest {
  readonly cache: TickSink & TickSource;
  /** Waits until what was written can be read (Redis writes behind). */
  settle(): Promise<void>;
}

let server: RedisServer | undefined;
const clients: RedisTickClient[] = [];
beforeAll(async () => {
  server = await RedisServer.start();
}, SLOW);
afterAll(async () => {
  await Promise.all(clients.map((client) => (client.isOpen ? client.destroy() : undefined)));
  await server?.destroy();
}, SLOW);

const adapters: Array<[string, PriceSource, () => Promise<CacheUnderTest>]> = [
  ["MemoryTickCache", PriceSource.MEMORY, async () => ({ cache: new MemoryTickCache(), settle: async () => {} })],
  [
    "RedisTickCache",
    PriceSource.REDIS,
    async () => {
      const client = createRedisTickClient(server!.url);
      await client.connect();
      clients.push(client);
      const cache = new RedisTickCache(client);
      return { cache, settle: () => cache.flush() };
    },
  ],
];

// Each test uses instruments of its own, so the adapters sharing one Redis do not see each other's ticks.
let next = 0;
const instrument = () => ({ segment: Segment.NSE_FNO, securityId: `C${process.pid}-${++next}` });

describe.each(adapters)("%s", (_name, source, makeCache) => {
  it(
    "names its price source",
    async () => {
      const { cache } = await makeCache();
      expect(cache.source).toBe(source);
    },
    SLOW,
  );

  it(
    "knows no tick for an instrument nothing was written for",
    async () => {
      const { cache } = await makeCache();
      expect(await cache.latest(instrument())).toBeUndefined();
    },
    SLOW,
  );

  it(
    "answers the tick written, price to the last decimal and tick time in ms",
    async () => {
      const { cache, settle } = await makeCache();
      const key = instrument();
      cache.write([{ ...key, ltp: new Money("24012.0500000001"), timeMs: 1_700_000_000_123 }]);
      await settle();
      const tick = await cache.latest(key);
      expect(tick?.ltp.toString()).toBe("24012.0500000001");
      expect(tick).toMatchObject({ ...key, timeMs: 1_700_000_000_123 });
    },
    SLOW,
  );

  it(
    "keeps the newer tick when an older one arrives after it",
    async () => {
      const { cache, settle } = await makeCache();
      const key = instrument();
      cache.write([{ ...key, ltp: new Money("101.5"), timeMs: 2_000 }]);
      await settle();
      cache.write([{ ...key, ltp: new Money("99"), timeMs: 1_000 }]);
      await settle();
      expect((await cache.latest(key))?.ltp.toString()).toBe("101.5");
      cache.write([{ ...key, ltp: new Money("102.25"), timeMs: 3_000 }]);
      await settle();
      expect((await cache.latest(key))?.ltp.toString()).toBe("102.25");
    },
    SLOW,
  );

  it(
    "keeps instruments apart, also across segments with the same security id",
    async () => {
      const { cache, settle } = await makeCache();
      const key = instrument();
      const other = { segment: Segment.BSE_EQ, securityId: key.securityId };
      cache.write([
        { ...key, ltp: new Money("10"), timeMs: 1_000 },
        { ...other, ltp: new Money("20"), timeMs: 1_000 },
      ]);
      await settle();
      expect((await cache.latest(key))?.ltp.toString()).toBe("10");
      expect((await cache.latest(other))?.ltp.toString()).toBe("20");
    },
    SLOW,
  );
});
