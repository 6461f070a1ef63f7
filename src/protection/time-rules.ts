/**
 * When a tracker's time rules are due: the time exit (at a timestamp, or a
 * holding time after registration) and the session-end square-off (the first
 * "HH:MM" in the exchange's time zone after registration, from the plan or,
 * when the plan says nothing, the segment's configured default).
 *
 * Pure: the scheduler computes a due time when a plan is set or changed, and
 * again under the exit lock before it exits, so a plan changed in between is
 * what decides.
 */
import { ExitReasonCode, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { minutesOfDay, nextLocalTime } from "../domain/zoned-time.js";
import { isTimeZone } from "./exit-plan-validation.js";

export type TimeRule = "TIME_EXIT" | "SESSION_END";
export const TIME_RULES: readonly TimeRule[] = ["TIME_EXIT", "SESSION_END"];

export const REASON_CODE_OF: Readonly<Record<TimeRule, ExitReasonCode>> = {
  TIME_EXIT: ExitReasonCode.TIME_BASED,
  SESSION_END: ExitReasonCode.SESSION_END,
};

export interface WallClockTime {
  /** "HH:MM", 24 hours. */
  readonly localTime: string;
  /** An IANA time zone, "Asia/Kolkata". */
  readonly timeZone: string;
}

/** The session-end square-off of each segment whose plan says nothing; a segment absent has none. */
export type SessionEndDefaults = ReadonlyMap<Segment, WallClockTime>;

/** Epoch ms at which `rule` of the tracker's plan is due; undefined when the plan (or its absence) has no such rule. */
export function dueTimeOf(tracker: TrackerRecord, rule: TimeRule, defaults: SessionEndDefaults): number | undefined {
  const plan = tracker.exitPlan;
  if (!plan) return undefined;
  if (rule === "TIME_EXIT") {
    if (!plan.timeExit) return undefined;
    return plan.timeExit.kind === "at" ? plan.timeExit.atMs : tracker.createdAt + plan.timeExit.afterMs;
  }
  const end = plan.sessionEnd === undefined ? defaults.get(tracker.segment) : plan.sessionEnd.kind === "at" ? plan.sessionEnd : undefined;
  return end && nextLocalTime(end.localTime, end.timeZone, tracker.createdAt);
}

/** The scheduler's key of one rule of one tracker. */
export function dueKey(rule: TimeRule, orderNo: string): string {
  return `${rule}|${orderNo}`;
}

export function parseDueKey(key: string): { rule: TimeRule; orderNo: string } | undefined {
  const bar = key.indexOf("|");
  const rule = key.slice(0, bar) as TimeRule;
  return bar > 0 && TIME_RULES.includes(rule) ? { rule, orderNo: key.slice(bar + 1) } : undefined;
}

/**
 * One `SEGMENT=HH:MM@Zone` entry of the session-end defaults setting
 * ("NSE_FNO=15:15@Asia/Kolkata"); throws an Error saying what is wrong.
 */
export function parseSessionEndDefault(entry: string): [Segment, WallClockTime] {
  const match = /^([A-Z_]+)=(\d\d:\d\d)@(.+)$/.exec(entry.trim());
  if (!match) throw new Error(`"${entry}" is not SEGMENT=HH:MM@Time/Zone`);
  const [, name, localTime, timeZone] = match as unknown as [string, string, string, string];
  const segment = Segment[name as keyof typeof Segment];
  if (typeof segment !== "number" || segment === Segment.UNSPECIFIED) throw new Error(`"${name}" is not a segment (NSE_EQ, NSE_FNO, ...)`);
  if (minutesOfDay(localTime) === undefined) throw new Error(`"${localTime}" is not HH:MM (00:00 to 23:59)`);
  if (!isTimeZone(timeZone)) throw new Error(`"${timeZone}" is not a known IANA time zone`);
  return [segment, { localTime, timeZone }];
}

/** The defaults setting's entries as a map; a segment named twice is refused. */
export function sessionEndDefaultsOf(entries: readonly string[]): SessionEndDefaults {
  const defaults = new Map<Segment, WallClockTime>();
  for (const entry of entries) {
    const [segment, time] = parseSessionEndDefault(entry);
    if (defaults.has(segment)) throw new Error(`segment ${Segment[segment]} is named twice`);
    defaults.set(segment, time);
  }
  return defaults;
}
