import { describe, expect, it } from "vitest";
import { PriceSource, Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { InstrumentKey } from "../../../src/exit/ports.js";
import { FallbackLtpResolver } from "../../../src/ticks/fallback-ltp-resolver.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import type { TickRecord, TickSource } from "../../../src/ticks/tick.js";

const instrument: InstrumentKey = { segment: Segment.NSE_EQ, securityId: "1333" };
const NOW = 1_800_000_000_000;
const settings = { hopTimeoutMs: 50, staleAfterMs: 5_000 };

function tick(ltp: string, timeMs: number): TickRecord {
  return { ...instrument, ltp: new Money(ltp), timeMs };
}

function hop(source: PriceSource, latest: TickSource["latest"]): TickSource {
  return { source, latest };
}

describe("FallbackLtpResolver (seed 1: LTP fallback)", () => {
  it("answers from memory with its age when the memory cache has the instrument", async () => {
    const memory = new MemoryTickCache();
    memory.write([tick("1520.35", NOW - 1_200)]);
    const quote = await new FallbackLtpResolver([memory], settings, () => NOW).resolve(instrument);
    expect(quote).toMatchObject({ found: true, source: PriceSource.MEMORY, ageMs: 1_200, stale: false });
    expect(quote.price?.toFixed()).toBe("1520.35");
  });

  it("answers NONE, without throwing, when no hop knows the instrument", async () => {
    const quote = await new FallbackLtpResolver([new MemoryTickCache()], settings, () => NOW).resolve(instrument);
    expect(quote).toEqual({ found: false, source: PriceSource.NONE, ageMs: 0, stale: false });
  });

  it("flags a price older than the stale limit", async () => {
    const memory = new MemoryTickCache();
    memory.write([tick("10", NOW - 5_001)]);
    const quote = await new FallbackLtpResolver([memory], settings, () => NOW).resolve(instrument);
    expect(quote.stale).toBe(true);
    expect(quote.found).toBe(true);
  });

  it("falls through to the next hop when one misses", async () => {
    const redis = hop(PriceSource.REDIS, async () => tick("99.5", NOW - 10));
    const quote = await new FallbackLtpResolver([new MemoryTickCache(), redis], settings, () => NOW).resolve(instrument);
    expect(quote.source).toBe(PriceSource.REDIS);
    expect(quote.price?.toFixed()).toBe("99.5");
  });

  it("degrades to the next hop when a hop throws", async () => {
    const broken = hop(PriceSource.MEMORY, async () => {
      throw new Error("connection reset");
    });
    const redis = hop(PriceSource.REDIS, async () => tick("42", NOW));
    const quote = await new FallbackLtpResolver([broken, redis], settings, () => NOW).resolve(instrument);
    expect(quote.source).toBe(PriceSource.REDIS);
  });

  it("degrades to the next hop when a hop hangs past its bound", async () => {
    const hanging = hop(PriceSource.REDIS, () => new Promise<never>(() => {}));
    const quote = await new FallbackLtpResolver([hanging], settings, () => NOW).resolve(instrument);
    expect(quote.source).toBe(PriceSource.NONE);
  });

  it("never lets an older tick replace a newer one in memory", async () => {
    const memory = new MemoryTickCache();
    memory.write([tick("101", NOW)]);
    memory.write([tick("100", NOW - 1)]);
    expect((await memory.latest(instrument))?.ltp.toFixed()).toBe("101");
  });
});
