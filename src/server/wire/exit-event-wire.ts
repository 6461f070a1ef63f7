/** Exit events from the trail to the wire (WatchExits, QueryExits). Outbound only. */
import { create } from "@bufbuild/protobuf";
import { type ExitEvent, ExitEventSchema } from "../../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { SequencedExitEvent } from "../../exit/exit-trail.js";
import { timestampOf } from "./time-wire.js";
import { trackerToWire } from "./tracker-wire.js";
import { triggerToWire } from "./exit-plan-wire.js";

export function exitEventToWire(event: SequencedExitEvent): ExitEvent {
  return create(ExitEventSchema, {
    sequence: event.sequence,
    kind: event.kind,
    tracker: trackerToWire(event.tracker),
    status: event.status ?? ExitStatus.UNSPECIFIED,
    correlationId: event.correlationId,
    time: timestampOf(event.timeMs),
    message: event.message,
    process: event.process,
    appendedTime: timestampOf(event.appendedMs),
    sessionId: event.tracker.sessionId ?? "",
    trigger: event.trigger && triggerToWire(event.trigger),
  });
}
