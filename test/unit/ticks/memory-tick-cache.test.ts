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
