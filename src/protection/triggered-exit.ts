/**
 * What every protective rule does once it has decided to fire, whether a tick
 * or the scheduler decided: run the ordinary exactly-once exit under a
 * `protection.trigger` span that carries the trigger, so a trace shows why an
 * exit nobody asked for was sent. The exit announces the trigger on
 * WatchExits (TRIGGERED, just before INTENT) once its intent is stored, so a
 * trigger that finds the tracker exited by hand, or its plan changed,
 * announces nothing.
 */
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import type { ExitTrigger } from "../domain/exit-plan.js";
import { formatDecimal } from "../domain/money.js";
import type { ExitCommand } from "../exit/exit-command.js";
import type { ExitEngine } from "../exit/exit-engine.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";
import { inParentSpan, NO_TRACE_PARENT } from "../exit/exit-tracing.js";

export const PROTECTION_SPAN = "protection.trigger";

export interface TriggeredExitDeps {
  readonly engine: Pick<ExitEngine, "execute">;
}

/** Executes `command` (which carries the trigger) under the trigger's span. */
export async function runTriggeredExit(
  deps: TriggeredExitDeps,
  command: ExitCommand & { readonly trigger: ExitTrigger; readonly reason: string },
): Promise<ExitOutcome> {
  const { trigger } = command;
  return inParentSpan(NO_TRACE_PARENT, PROTECTION_SPAN, (_span, context) => deps.engine.execute(command, context), {
    order_no: command.orderNo,
    "trigger.rule": ProtectionRule[trigger.rule],
    ...(trigger.level ? { "trigger.level": formatDecimal(trigger.level) } : {}),
    ...(trigger.tickPrice ? { "trigger.tick_price": formatDecimal(trigger.tickPrice) } : {}),
    "trigger.tick_time_ms": trigger.tickTimeMs,
    "trigger.plan_version": trigger.planVersion,
  });
}
