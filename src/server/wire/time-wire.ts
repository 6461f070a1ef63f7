/**
 * Epoch milliseconds and durations to and from the well-known types. Written
 * as literals typed as the messages (the compiler holds them to every
 * field) rather than with create(), which walks the schema on every call:
 * these sit on the GetLtp and tracker answers' hot paths.
 */
import { type Duration, type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";

/** Epoch ms → Timestamp (as protobuf-es's timestampFromMs); undefined stays unset. */
export function timestampOf(ms: number | undefined): Timestamp | undefined {
  if (ms === undefined) return undefined;
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Timestamp → epoch ms; unset is undefined. */
export function msOf(timestamp: Timestamp | undefined): number | undefined {
  return timestamp === undefined ? undefined : timestampDate(timestamp).getTime();
}

/** Non-negative ms → Duration. */
export function durationOf(ms: number): Duration {
  const whole = Math.max(0, Math.round(ms));
  return { $typeName: "google.protobuf.Duration", seconds: BigInt(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1_000_000 };
}
