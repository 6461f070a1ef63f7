/**
 * An ExitPlan from a request → the domain's plan rules, refusing anything
 * malformed with an `invalid-argument` naming the field: first the grammar
 * of every value, then what the plan may say for the tracker's side and
 * entry (exit-plan-validation.ts). Nothing is stored before both pass.
 */
import type { Side } from "../../../gen/tradingcore/v1/common_pb.js";
import type {
  PeakDrawdown,
  PriceDistance,
  PriceLevel,
  SessionEnd,
  TimeExit,
  TrailingStop,
  ExitPlan as WireExitPlan,
} from "../../../gen/tradingcore/v1/protection_pb.js";
import type {
  DistanceSpec,
  ExitPlanRules,
  PeakDrawdownSpec,
  PriceLevelSpec,
  SessionEndSpec,
  TimeExitSpec,
  TrailingStopSpec,
} from "../../domain/exit-plan.js";
import type { Money } from "../../domain/money.js";
import { exitPlanProblem } from "../../protection/exit-plan-validation.js";
import { invalid, parsePositiveDecimal, parseTimestamp } from "./request-parsing.js";

/** The plan's rules, or undefined when the request has no plan. */
export function parseExitPlan(plan: WireExitPlan | undefined, side: Side, entry: Money, field = "exit_plan"): ExitPlanRules | undefined {
  if (!plan) return undefined;
  const stopLoss = plan.stopLoss && parseLevel(plan.stopLoss, `${field}.stop_loss`);
  const takeProfit = plan.takeProfit && parseLevel(plan.takeProfit, `${field}.take_profit`);
  const trailingStop = plan.trailingStop && parseTrailing(plan.trailingStop, `${field}.trailing_stop`);
  const peakDrawdown = plan.peakDrawdown && parsePeak(plan.peakDrawdown, `${field}.peak_drawdown`);
  const timeExit = plan.timeExit && parseTimeExit(plan.timeExit, `${field}.time_exit`);
  const sessionEnd = plan.sessionEnd && parseSessionEnd(plan.sessionEnd, `${field}.session_end`);
  const rules: ExitPlanRules = {
    ...(stopLoss ? { stopLoss } : {}),
    ...(takeProfit ? { takeProfit } : {}),
    ...(trailingStop ? { trailingStop } : {}),
    ...(peakDrawdown ? { peakDrawdown } : {}),
    ...(timeExit ? { timeExit } : {}),
    ...(sessionEnd ? { sessionEnd } : {}),
  };
  const problem = exitPlanProblem(rules, side, entry, field);
  if (problem) throw invalid(problem);
  return rules;
}

function parseLevel(level: PriceLevel, field: string): PriceLevelSpec {
  const { case: kind, value } = level.level;
  if (kind === undefined) throw invalid(`${field} needs one of price, points or percent`);
  return { kind, value: parsePositiveDecimal(value, `${field}.${kind}`) };
}

function parseDistance(distance: PriceDistance | undefined, field: string): DistanceSpec {
  const kind = distance?.distance.case;
  if (!distance || kind === undefined) throw invalid(`${field} needs points or percent`);
  return { kind, value: parsePositiveDecimal(distance.distance.value as string, `${field}.${kind}`) };
}

function parseTrailing(trailing: TrailingStop, field: string): TrailingStopSpec {
  const distance = parseDistance(trailing.distance, `${field}.distance`);
  const activation = trailing.activation && parseLevel(trailing.activation, `${field}.activation`);
  const step = trailing.step === "" ? undefined : parsePositiveDecimal(trailing.step, `${field}.step`);
  return { distance, ...(activation ? { activation } : {}), ...(step ? { step } : {}) };
}

function parsePeak(peak: PeakDrawdown, field: string): PeakDrawdownSpec {
  const giveBackPercent = parsePositiveDecimal(peak.giveBackPercent, `${field}.give_back_percent`);
  const minProfit = peak.minProfit && parseDistance(peak.minProfit, `${field}.min_profit`);
  return { giveBackPercent, ...(minProfit ? { minProfit } : {}) };
}

function parseTimeExit(timeExit: TimeExit, field: string): TimeExitSpec {
  const when = timeExit.when;
  if (when.case === "at") return { kind: "at", atMs: parseTimestamp(when.value, `${field}.at`)! };
  if (when.case === "after") {
    const { seconds, nanos } = when.value;
    if (nanos < 0 || nanos > 999_999_999 || seconds < 0n || seconds > 1_000_000_000n)
      throw invalid(`${field}.after is not a valid duration`);
    return { kind: "after", afterMs: Number(seconds) * 1000 + Math.floor(nanos / 1_000_000) };
  }
  throw invalid(`${field} needs at or after`);
}

function parseSessionEnd(sessionEnd: SessionEnd, field: string): SessionEndSpec {
  if (sessionEnd.optOut) {
    if (sessionEnd.localTime !== "" || sessionEnd.timeZone !== "") throw invalid(`${field}.opt_out leaves local_time and time_zone empty`);
    return { kind: "opt-out" };
  }
  return { kind: "at", localTime: sessionEnd.localTime, timeZone: sessionEnd.timeZone };
}
