import { describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../../src/domain/money.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";

const tick = (securityId: string, ltp: string, timeMs = 1) => ({ segment: Segment.NSE_EQ, securityId, ltp: new Money(ltp), timeMs });
const instrument = (securityId: string) => ({ segment: Segment.NSE_EQ, securityId });

describe("MemoryTickCache at its instrument bound", () => {
  it("keeps updating the instruments it holds and drops ticks of new ones", () => {
    const cache = new MemoryTickCache(2);
    cache.write([tick("1", "10"), tick("2", "20"), tick("3", "30")]);
    expect(cache.size).toBe(2);
    expect(cache.peek(instrument("3"))).toBeUndefined();
    cache.write([tick("1", "11", 2)]);
    expect(cache.peek(instrument("1"))?.ltp.toString()).toBe("11");
  });

  it("says which instruments it admits and how much room is left", () => {
    const cache = new MemoryTickCache(2);
    expect(cache.room).toBe(2);
    cache.write([tick("1", "10")]);
    expect(cache.room).toBe(1);
    cache.write([tick("2", "20")]);
    expect(cache.room).toBe(0);
    expect(cache.admits(instrument("1"))).toBe(true);
    expect(cache.admits(instrument("9"))).toBe(false);
  });
});

describe("MemoryTickCache subscriptions", () => {
  it("tells a subscriber every newer tick of its instrument, none of others and none older, after the write's start", () => {
    const cache = new MemoryTickCache();
    const told: string[] = [];
    cache.subscribe(instrument("1"), { onTick: (seen) => told.push(`${seen.securityId} ${seen.ltp.toFixed()}`) });
    cache.onWrite(() => told.push("write"));
    cache.write([tick("1", "10", 5), tick("2", "20", 5), tick("1", "9", 4), tick("1", "11", 5)]);
    expect(told).toEqual(["write", "1 10", "1 11"]);
  });

  it("holds an instrument only subscribed to without counting it, and lets go of it with its last subscriber", () => {
    const cache = new MemoryTickCache(1);
    const unsubscribe = cache.subscribe(instrument("1"), { onTick: () => {} });
    expect([cache.size, cache.room, cache.peek(instrument("1"))]).toEqual([0, 1, undefined]);
    cache.write([tick("2", "20")]);
    // Full: the subscribed instrument's first tick is refused like any new instrument's.
    const told: string[] = [];
    cache.subscribe(instrument("1"), { onTick: (seen) => told.push(seen.ltp.toFixed()) });
    cache.write([tick("1", "10")]);
    expect([told, cache.peek(instrument("1"))]).toEqual([[], undefined]);
    unsubscribe();
    expect(cache.size).toBe(1);
  });

  it("stores every tick and tells every observer when one throws, then throws its error", () => {
    const cache = new MemoryTickCache();
    const told: string[] = [];
    cache.subscribe(instrument("1"), {
      onTick: () => {
        throw new Error("observer broke");
      },
    });
    cache.subscribe(instrument("1"), { onTick: (seen) => told.push(seen.ltp.toFixed()) });
    cache.onWrite(() => {
      throw new Error("write listener broke");
    });
    expect(() => cache.write([tick("1", "10", 1), tick("2", "20", 1), tick("1", "11", 2)])).toThrow("write listener broke");
    expect(told).toEqual(["10", "11"]);
    expect(cache.peek(instrument("2"))?.ltp.toFixed()).toBe("20");
  });

  it("ends one subscription per unsubscribe, however often it is called", () => {
    const cache = new MemoryTickCache();
    const told: string[] = [];
    const observer = { onTick: (seen: { ltp: Money }) => told.push(seen.ltp.toFixed()) };
    const first = cache.subscribe(instrument("1"), observer);
    cache.subscribe(instrument("1"), observer);
    first();
    first();
    cache.write([tick("1", "10")]);
    expect(told).toEqual(["10"]);
  });
});
