import { toBinary } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { durationOf, msOf, timestampOf } from "../../../../src/server/wire/time-wire.js";

describe("time on the wire", () => {
  it("writes a Timestamp exactly as protobuf-es's timestampFromMs does, past and fractional times included", () => {
    for (const ms of [0, 1, 999, 1_000, 1_795_727_851_800, 1_795_727_851_800.5, -1, -1_500]) {
      const ours = timestampOf(ms)!;
      expect(ours).toEqual(timestampFromMs(ms));
      expect(toBinary(TimestampSchema, ours)).toEqual(toBinary(TimestampSchema, timestampFromMs(ms)));
    }
    expect(timestampOf(undefined)).toBeUndefined();
  });

  it("reads back the milliseconds it wrote", () => {
    expect(msOf(timestampOf(1_795_727_851_800))).toBe(1_795_727_851_800);
    expect(msOf(undefined)).toBeUndefined();
  });

  it("writes a Duration of whole milliseconds, never negative", () => {
    expect(durationOf(1_500)).toMatchObject({ $typeName: "google.protobuf.Duration", seconds: 1n, nanos: 500_000_000 });
    expect(durationOf(-20)).toMatchObject({ seconds: 0n, nanos: 0 });
    expect(durationOf(2.4)).toMatchObject({ seconds: 0n, nanos: 2_000_000 });
    expect(toBinary(DurationSchema, durationOf(61_001)).length).toBeGreaterThan(0);
  });
});
