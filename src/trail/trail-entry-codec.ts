/**
 * An exit event as the fields of a Redis stream entry, and back. Enums by
 * name, epoch ms as integers, the tracker as the JSON of its hash fields
 * (redis-tracker-codec.ts), so an entry reads in redis-cli and a decimal is
 * never a float. The process, its own count of events and the append time
 * (`t`, epoch ms) are added by the append script (redis-trail-scripts.ts).
 */
import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { SequencedExitEvent } from "../exit/exit-trail.js";
import type { ExitEventRecord } from "../exit/ports.js";
import { decodeTracker, encodeTracker, hashFromFlat } from "../store/redis-tracker-codec.js";

/** The entry fields the codec writes, in this order; the append script is given the names once per batch. */
export const ENTRY_FIELDS = ["orderNo", "kind", "status", "correlationId", "timeMs", "message", "tracker"] as const;

/** The values of ENTRY_FIELDS, in that order. */
export function encodeEntryValues(event: ExitEventRecord): string[] {
  return [
    event.tracker.orderNo,
    ExitEventKind[event.kind] ?? String(event.kind),
    event.status === undefined ? "" : (ExitStatus[event.status] ?? String(event.status)),
    event.correlationId,
    String(event.timeMs),
    event.message,
    JSON.stringify(hashFromFlat(encodeTracker(event.tracker))),
  ];
}

/** The event of a stream entry; throws `internal` for an entry no trail wrote. */
export function decodeEntry(sequence: bigint, flat: readonly string[]): SequencedExitEvent {
  const fields = hashFromFlat(flat);
  const kind = enumValue(ExitEventKind, fields.kind, "kind");
  const status = fields.status ? enumValue(ExitStatus, fields.status, "status") : undefined;
  const timeMs = Number(fields.timeMs);
  const appendedMs = Number(fields.t);
  if (!Number.isSafeInteger(timeMs) || !Number.isSafeInteger(appendedMs) || fields.tracker === undefined) {
    throw new TradingCoreError("internal", `trail entry ${sequence} is not an exit event`);
  }
  return {
    sequence,
    appendedMs,
    process: fields.process ?? "",
    kind,
    tracker: decodeTracker(JSON.parse(fields.tracker) as Record<string, string>),
    ...(status === undefined ? {} : { status }),
    correlationId: fields.correlationId ?? "",
    timeMs,
    message: fields.message ?? "",
  };
}

function enumValue(enumObject: Record<string, string | number>, name: string | undefined, field: string): number {
  const value = name === undefined ? undefined : enumObject[name];
  if (typeof value !== "number") throw new TradingCoreError("internal", `trail entry field ${field} has an unknown value ${name}`);
  return value;
}
