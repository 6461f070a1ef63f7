import { create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema, type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";

/** Epoch ms → Timestamp; undefined stays unset. */
export function timestampOf(ms: number | undefined): Timestamp | undefined {
  return ms === undefined ? undefined : timestampFromMs(ms);
}

/** Timestamp → epoch ms; unset is undefined. */
export function msOf(timestamp: Timestamp | undefined): number | undefined {
  return timestamp === undefined ? undefined : timestampDate(timestamp).getTime();
}

/** Non-negative ms → Duration. */
export function durationOf(ms: number): Duration {
  const whole = Math.max(0, Math.round(ms));
  return create(DurationSchema, { seconds: BigInt(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1_000_000 });
}
