/** Exit plans, protection states and triggers from the domain to the wire. Outbound only. */
import { create } from "@bufbuild/protobuf";
import {
  type ExitPlan as WireExitPlan,
  type ExitTrigger as WireExitTrigger,
  type PriceDistance,
  type PriceLevel,
  type ProtectionState as WireProtectionState,
  ExitPlanSchema,
  ExitTriggerSchema,
  PriceDistanceSchema,
  PriceLevelSchema,
  ProtectionStateSchema,
} from "../../../gen/tradingcore/v1/protection_pb.js";
import type { DistanceSpec, ExitPlan, ExitTrigger, PriceLevelSpec, ProtectionState } from "../../domain/exit-plan.js";
import { formatDecimal } from "../../domain/money.js";
import { durationOf, timestampOf } from "./time-wire.js";

export function exitPlanToWire(plan: ExitPlan): WireExitPlan {
  const { trailingStop, peakDrawdown, timeExit, sessionEnd } = plan;
  return create(ExitPlanSchema, {
    stopLoss: plan.stopLoss && levelToWire(plan.stopLoss),
    takeProfit: plan.takeProfit && levelToWire(plan.takeProfit),
    trailingStop: trailingStop && {
      distance: distanceToWire(trailingStop.distance),
      activation: trailingStop.activation && levelToWire(trailingStop.activation),
      step: formatDecimal(trailingStop.step),
    },
    peakDrawdown: peakDrawdown && {
      giveBackPercent: formatDecimal(peakDrawdown.giveBackPercent),
      minProfit: peakDrawdown.minProfit && distanceToWire(peakDrawdown.minProfit),
    },
    timeExit: timeExit && {
      when:
        timeExit.kind === "at"
          ? { case: "at", value: timestampOf(timeExit.atMs)! }
          : { case: "after", value: durationOf(timeExit.afterMs) },
    },
    sessionEnd:
      sessionEnd && (sessionEnd.kind === "opt-out" ? { optOut: true } : { localTime: sessionEnd.localTime, timeZone: sessionEnd.timeZone }),
    version: BigInt(plan.version),
  });
}

export function protectionToWire(state: ProtectionState): WireProtectionState {
  return create(ProtectionStateSchema, {
    planVersion: BigInt(state.planVersion),
    trailHighWater: formatDecimal(state.trailHighWater),
    trailLevel: formatDecimal(state.trailLevel),
    trailArmed: state.trailArmed,
    peakProfit: formatDecimal(state.peakProfit),
    peakArmed: state.peakArmed,
    lastTickTime: timestampOf(state.lastTickTimeMs),
    lastTickPrice: formatDecimal(state.lastTickPrice),
  });
}

export function triggerToWire(trigger: ExitTrigger): WireExitTrigger {
  return create(ExitTriggerSchema, {
    rule: trigger.rule,
    level: formatDecimal(trigger.level),
    tickPrice: formatDecimal(trigger.tickPrice),
    tickTime: timestampOf(trigger.tickTimeMs),
    planVersion: BigInt(trigger.planVersion),
  });
}

function levelToWire(level: PriceLevelSpec): PriceLevel {
  return create(PriceLevelSchema, { level: { case: level.kind, value: formatDecimal(level.value) } });
}

function distanceToWire(distance: DistanceSpec): PriceDistance {
  return create(PriceDistanceSchema, { distance: { case: distance.kind, value: formatDecimal(distance.value) } });
}
