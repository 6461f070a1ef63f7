import { describe, expect, it } from "vitest";
import { nextLocalTime, zoneOffsetMs } from "../../../src/domain/zoned-time.js";

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
