/**
 * What an exit plan may say, checked against the tracker's side and entry
 * before anything is stored. Every problem names the field by its path in
 * the request (`exit_plan.stop_loss.points`).
 *
 * Refused: a level on the wrong side of the entry (a LONG's stop loss at or
 * above its entry, its take profit at or below; the mirror for a SHORT), an
 * offset that puts a level at or below zero, a percent distance of 100 or
 * more, a give-back outside (0, 100], a holding time outside (0, 366 days],
 * a session end that both opts out and names a time, an unknown time zone.
 * Allowed: a level the market has already crossed (it fires on the first
 * tick after the plan is set), a time exit in the past (it fires at once).
 */
import { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { DistanceSpec, ExitPlanRules, PriceLevelSpec, SessionEndSpec, TimeExitSpec } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import { isOnSide, type LevelSide, levelPrice } from "./levels.js";

export const MAX_HOLDING_MS = 366 * 24 * 3_600_000;
const LOCAL_TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** The first problem of `rules` for a position of `side` entered at `entry`, or undefined. */
export function exitPlanProblem(rules: ExitPlanRules, side: Side, entry: Money, field = "exit_plan"): string | undefined {
  return (
    (rules.stopLoss && levelProblem(rules.stopLoss, side, entry, "loss", `${field}.stop_loss`)) ||
    (rules.takeProfit && levelProblem(rules.takeProfit, side, entry, "profit", `${field}.take_profit`)) ||
    (rules.trailingStop &&
      (distanceProblem(rules.trailingStop.distance, `${field}.trailing_stop.distance`) ||
        (rules.trailingStop.activation &&
          levelProblem(rules.trailingStop.activation, side, entry, "profit", `${field}.trailing_stop.activation`)) ||
        (rules.trailingStop.step && positiveProblem(rules.trailingStop.step, `${field}.trailing_stop.step`)))) ||
    (rules.peakDrawdown &&
      ((rules.peakDrawdown.giveBackPercent.lessThanOrEqualTo(0) || rules.peakDrawdown.giveBackPercent.greaterThan(100)
        ? `${field}.peak_drawdown.give_back_percent must be greater than 0 and at most 100`
        : undefined) ||
        (rules.peakDrawdown.minProfit && distanceProblem(rules.peakDrawdown.minProfit, `${field}.peak_drawdown.min_profit`)))) ||
    (rules.timeExit && timeExitProblem(rules.timeExit, `${field}.time_exit`)) ||
    (rules.sessionEnd && sessionEndProblem(rules.sessionEnd, `${field}.session_end`)) ||
    undefined
  );
}

function levelProblem(level: PriceLevelSpec, side: Side, entry: Money, towards: LevelSide, field: string): string | undefined {
  const at = `${field}.${level.kind}`;
  const positive = positiveProblem(level.value, at);
  if (positive) return positive;
  const price = levelPrice(level, side, entry, towards);
  if (price.lessThanOrEqualTo(0)) return `${at} puts the level at ${price.toFixed()}, at or below zero`;
  if (!isOnSide(price, side, entry, towards)) {
    const where = (side === Side.LONG) === (towards === "profit") ? "above" : "below";
    return `${at} must be ${where} the entry price ${entry.toFixed()} for a ${Side[side]} position, got ${price.toFixed()}`;
  }
  return undefined;
}

function distanceProblem(distance: DistanceSpec, field: string): string | undefined {
  const at = `${field}.${distance.kind}`;
  if (distance.kind === "percent" && distance.value.greaterThanOrEqualTo(100)) return `${at} must be less than 100`;
  return positiveProblem(distance.value, at);
}

function positiveProblem(value: Money, field: string): string | undefined {
  return value.greaterThan(0) ? undefined : `${field} must be greater than 0, got ${value.toFixed()}`;
}

function timeExitProblem(timeExit: TimeExitSpec, field: string): string | undefined {
  if (timeExit.kind === "at") return undefined;
  if (timeExit.afterMs <= 0 || timeExit.afterMs > MAX_HOLDING_MS) return `${field}.after must be more than 0 and at most 366 days`;
  return undefined;
}

function sessionEndProblem(sessionEnd: SessionEndSpec, field: string): string | undefined {
  if (sessionEnd.kind === "opt-out") return undefined;
  if (!LOCAL_TIME.test(sessionEnd.localTime)) return `${field}.local_time must be HH:MM (00:00 to 23:59)`;
  if (!isTimeZone(sessionEnd.timeZone)) return `${field}.time_zone is not a known IANA time zone`;
  return undefined;
}

/** True for a zone the runtime's time-zone database knows ("Asia/Kolkata"). */
export function isTimeZone(name: string): boolean {
  if (name === "") return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
