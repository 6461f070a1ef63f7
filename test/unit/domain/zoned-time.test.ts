import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstLocalTimeAfter, nextLocalTime, zoneOffsetMs } from "../../../src/domain/zoned-time.js";

const at = (iso: string) => Date.parse(iso);
const next = (localTime: string, zone: string, afterIso: string) => new Date(nextLocalTime(localTime, zone, at(afterIso))).toISOString();

describe("nextLocalTime", () => {
  it("answers today's wall-clock time while it is ahead, else tomorrow's", () => {
    expect(next("15:15", "Asia/Kolkata", "2026-03-02T04:00:00Z")).toBe("2026-03-02T09:45:00.000Z");
    expect(next("15:15", "Asia/Kolkata", "2026-03-02T09:45:00Z")).toBe("2026-03-03T09:45:00.000Z");
  });

  it("takes the local day of the zone, not of UTC", () => {
    // 23:00 UTC on the 1st is already 04:30 on the 2nd in Kolkata.
    expect(next("15:15", "Asia/Kolkata", "2026-03-01T23:00:00Z")).toBe("2026-03-02T09:45:00.000Z");
    expect(next("00:00", "Asia/Kolkata", "2026-03-02T04:00:00Z")).toBe("2026-03-02T18:30:00.000Z");
  });

  it("follows the zone's daylight-saving time", () => {
    expect(next("15:15", "America/New_York", "2026-01-05T12:00:00Z")).toBe("2026-01-05T20:15:00.000Z");
    expect(next("15:15", "America/New_York", "2026-07-01T12:00:00Z")).toBe("2026-07-01T19:15:00.000Z");
    // The days the clocks change (8 March and 1 November 2026).
    expect(next("15:15", "America/New_York", "2026-03-08T05:00:00Z")).toBe("2026-03-08T19:15:00.000Z");
    expect(next("15:15", "America/New_York", "2026-11-01T04:00:00Z")).toBe("2026-11-01T20:15:00.000Z");
  });

  it("takes a skipped local time after the gap, and a repeated one at its first occurrence", () => {
    expect(next("02:30", "America/New_York", "2026-03-08T05:00:00Z")).toBe("2026-03-08T07:30:00.000Z");
    expect(next("01:30", "America/New_York", "2026-11-01T04:00:00Z")).toBe("2026-11-01T05:30:00.000Z");
  });

  it("answers what it computes afresh, whatever it answered before, across daylight-saving changes", () => {
    const zones = ["Asia/Kolkata", "America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo"];
    // Few enough that the same zone and time come back within a run, at other instants.
    const localTime = fc.constantFrom("15:15", "02:30", "01:30", "00:00", "23:59", "03:00");
    // Around the 2026 clock changes of these zones, and at random within the year.
    const instant = fc.oneof(
      fc.constantFrom(at("2026-03-08T06:00:00Z"), at("2026-03-29T00:30:00Z"), at("2026-04-05T14:00:00Z"), at("2026-11-01T05:00:00Z")),
      fc.integer({ min: at("2026-01-01T00:00:00Z"), max: at("2027-01-01T00:00:00Z") }),
    );
    const ask = fc.record({
      zone: fc.constantFrom(...zones),
      localTime,
      afterMs: fc.tuple(instant, fc.integer({ min: -2 * 86_400_000, max: 2 * 86_400_000 })).map(([base, delta]) => base + delta),
    });
    fc.assert(
      fc.property(fc.array(ask, { minLength: 1, maxLength: 30 }), (asks) => {
        for (const { zone, localTime, afterMs } of asks) {
          expect(nextLocalTime(localTime, zone, afterMs), `${localTime} ${zone} after ${new Date(afterMs).toISOString()}`).toBe(
            firstLocalTimeAfter(localTime, zone, afterMs),
          );
        }
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a local time that is not HH:MM", () => {
    expect(() => nextLocalTime("25:00", "Asia/Kolkata", 0)).toThrow(/not HH:MM/);
  });
});

describe("zoneOffsetMs", () => {
  it("answers the zone's offset at an instant", () => {
    expect(zoneOffsetMs(at("2026-03-02T04:00:00Z"), "Asia/Kolkata")).toBe(19_800_000);
    expect(zoneOffsetMs(at("2026-07-01T12:00:00Z"), "America/New_York")).toBe(-14_400_000);
  });
});
