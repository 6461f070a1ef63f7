/**
 * What every protective rule does once it has decided to fire, whether a tick
 * or the scheduler decided: announce the trigger on WatchExits, then run the
 * ordinary exactly-once exit under a `protection.trigger` span that carries
 * the trigger, so a trace shows why an exit nobody asked for was sent.
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import type { ExitTrigger } from "../domain/exit-plan.js";
import { formatDecimal } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitCommand } from "../exit/exit-command.js";
import type { ExitEngine } from "../exit/exit-engine.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";
import { inParentSpan, NO_TRACE_PARENT } from "../exit/exit-tracing.js";
import type { Clock, ExitEventSink } from "../exit/ports.js";

export const PROTECTION_SPAN = "protection.trigger";

export interface TriggeredExitDeps {
  readonly engine: Pick<ExitEngine, "execute">;
  readonly events: ExitEventSink;
  readonly clock: Clock;
}

/** Publishes TRIGGERED for `tracker`, then executes `command` (which carries the trigger) under the trigger's span. */
export async function runTriggeredExit(
  deps: TriggeredExitDeps,
  tracker: TrackerRecord,
  command: ExitCommand & { readonly trigger: ExitTrigger; readonly reason: string },
): Promise<ExitOutcome> {
  const { trigger } = command;
  deps.events.publish({
    kind: ExitEventKind.TRIGGERED,
    tracker: { ...tracker, trigger },
    correlationId: "",
    timeMs: deps.clock.now(),
    message: command.reason,
    trigger,
  });
  return inParentSpan(NO_TRACE_PARENT, PROTECTION_SPAN, (_span, context) => deps.engine.execute(command, context), {
    order_no: command.orderNo,
    "trigger.rule": ProtectionRule[trigger.rule],
    ...(trigger.level ? { "trigger.level": formatDecimal(trigger.level) } : {}),
    ...(trigger.tickPrice ? { "trigger.tick_price": formatDecimal(trigger.tickPrice) } : {}),
    "trigger.tick_time_ms": trigger.tickTimeMs,
    "trigger.plan_version": trigger.planVersion,
  });
}
