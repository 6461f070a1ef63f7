import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PriceSource, Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { InProcessLock } from "../../../src/lock/in-process-lock.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { FallbackLtpResolver } from "../../../src/ticks/fallback-ltp-resolver.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import { createRedisTickClient, type RedisTickClient } from "../../../src/ticks/redis-tick-client.js";
import { RedisTickCache } from "../../../src/ticks/redis-tick-cache.js";
import { TeeTickSink } from "../../../src/ticks/tee-tick-sink.js";
import { engineOn, exitCommand, trackerSpec } from "../../support/exit-fixtures.js";
import { RedisServer } from "../../support/redis-server.js";

const SLOW = 60_000;
const instrument = { segment: Segment.NSE_FNO, securityId: "52175" };

/** What one tradingcore process has: a memory cache in front of the shared Redis one. */
interface ProcessTicks {
  readonly memory: MemoryTickCache;
  readonly redis: RedisTickCache;
  readonly sink: TeeTickSink;
  readonly resolver: FallbackLtpResolver;
}

describe("RedisTickCache", () => {
  let server: RedisServer;
  const clients: RedisTickClient[] = [];

  async function processTicks(): Promise<ProcessTicks> {
    const client = createRedisTickClient(server.url);
    await client.connect();
    clients.push(client);
    const memory = new MemoryTickCache();
    const redis = new RedisTickCache(client);
    const resolver = new FallbackLtpResolver([memory, redis], { hopTimeoutMs: 2_000, staleAfterMs: 60_000 }, () => Date.now());
    return { memory, redis, sink: new TeeTickSink([memory, redis]), resolver };
  }

  beforeAll(async () => {
    server = await RedisServer.start();
  }, SLOW);

  afterAll(async () => {
    await Promise.all(clients.map((client) => (client.isOpen ? client.destroy() : undefined)));
    await server?.destroy();
  }, SLOW);

  describe("when one process publishes a tick", () => {
    it(
      "is the LTP another process reads, from source REDIS, to the last decimal",
      async () => {
        const [publisher, reader] = [await processTicks(), await processTicks()];
        const timeMs = Date.now();
        publisher.sink.write([{ ...instrument, ltp: new Money("101.0500000001"), timeMs }]);
        await publisher.redis.flush();
        const quote = await reader.resolver.resolve(instrument);
        expect(quote).toMatchObject({ found: true, source: PriceSource.REDIS, tickTimeMs: timeMs });
        expect(quote.price?.toFixed()).toBe("101.0500000001");
        expect((await publisher.resolver.resolve(instrument)).source).toBe(PriceSource.MEMORY);
      },
      SLOW,
    );

    it(
      "never lets an older tick replace a newer one, whichever process writes it",
      async () => {
        const [first, second, reader] = [await processTicks(), await processTicks(), await processTicks()];
        const other = { segment: Segment.NSE_EQ, securityId: "1333" };
        first.sink.write([{ ...other, ltp: new Money("200.5"), timeMs: 2_000 }]);
        await first.redis.flush();
        second.sink.write([{ ...other, ltp: new Money("199.5"), timeMs: 1_000 }]);
        await second.redis.flush();
        expect((await reader.redis.latest(other))?.ltp.toFixed()).toBe("200.5");
      },
      SLOW,
    );

    it(
      "writes a burst in batches, keeping only the newest tick per instrument",
      async () => {
        const publisher = await processTicks();
        const reader = await processTicks();
        const burst = Array.from({ length: 500 }, (_, i) => ({
          segment: Segment.MCX_COMM,
          securityId: String(i % 50),
          ltp: new Money(`${i}.25`),
          timeMs: 10_000 + i,
        }));
        publisher.sink.write(burst);
        await publisher.redis.flush();
        expect(publisher.redis.counts.written).toBe(50);
        expect((await reader.redis.latest({ segment: Segment.MCX_COMM, securityId: "7" }))?.ltp.toFixed()).toBe("457.25");
      },
      SLOW,
    );

    it(
      "checks every instrument of one batch on its own: older ticks are skipped, newer ones written, past one script call's worth",
      async () => {
        const [early, late, reader] = [await processTicks(), await processTicks(), await processTicks()];
        const instruments = Array.from({ length: 1_200 }, (_, i) => ({ segment: Segment.NSE_EQ, securityId: `B${i}` }));
        // Even instruments first get a newer tick (t=5000); then a batch of t=3000 ticks for all of them.
        late.sink.write(instruments.filter((_, i) => i % 2 === 0).map((key) => ({ ...key, ltp: new Money("50.5"), timeMs: 5_000 })));
        await late.redis.flush();
        early.sink.write(instruments.map((key) => ({ ...key, ltp: new Money("30.25"), timeMs: 3_000 })));
        await early.redis.flush();
        expect(early.redis.counts).toEqual({ written: 1_200, failed: 0 });
        for (const i of [0, 1, 598, 599, 1_198, 1_199]) {
          const stored = await reader.redis.latest(instruments[i]!);
          expect(stored?.ltp.toFixed(), `B${i}`).toBe(i % 2 === 0 ? "50.5" : "30.25");
          expect(stored?.timeMs, `B${i}`).toBe(i % 2 === 0 ? 5_000 : 3_000);
        }
      },
      SLOW,
    );
  });

  describe("when Redis is down", () => {
    it(
      "accepts ticks without throwing, answers NONE for unknown prices, and the exit is still answered",
      async () => {
        const ticks = await processTicks();
        await server.stop();
        try {
          expect(() => ticks.sink.write([{ ...instrument, securityId: "999", ltp: new Money("1"), timeMs: Date.now() }])).not.toThrow();
          await ticks.redis.flush();
          expect(ticks.redis.counts.failed).toBeGreaterThan(0);
          const unknown = { segment: Segment.BSE_EQ, securityId: "500325" };
          expect(await ticks.resolver.resolve(unknown)).toMatchObject({ found: false, source: PriceSource.NONE });

          const store = new MemoryTrackerStore();
          await store.register(trackerSpec("TICKS-DOWN-1", unknown), Date.now());
          const router = new PaperRouter();
          const engine = engineOn({ store, lock: new InProcessLock(), router, ltp: ticks.resolver });
          const outcome = await engine.execute(exitCommand("TICKS-DOWN-1"));
          expect(outcome.priceSource).toBe(PriceSource.NONE);
          expect(router.ordersFor("TICKS-DOWN-1")).toBe(1);
        } finally {
          await server.restart();
        }
      },
      SLOW,
    );
  });
});
