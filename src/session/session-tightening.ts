/**
 * TIGHTEN, the lapse action that keeps a session's positions open under a
 * stricter plan: the session's fallback rules replace the tracker's rules
 * of the same kinds (the others stay), written with the plan's own
 * version-checked change, so it races a trigger's exit the way UpdateExitPlan
 * does: one of the two wins on the tracker's version.
 */
import type { ExitPlanRules } from "../domain/exit-plan.js";
import { sameRules } from "../domain/exit-plan.js";
import type { SessionRecord } from "../domain/session.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { isTradingCoreError } from "../domain/trading-core-error.js";
import type { TrackerStore } from "../exit/ports.js";
import { changeExitPlan } from "../protection/exit-plan-change.js";
import { exitPlanProblem } from "../protection/exit-plan-validation.js";

export type Tightening =
  /** The tracker now has the merged plan (or had it already). */
  | { readonly kind: "tightened"; readonly tracker: TrackerRecord }
  /** The merged plan does not fit the tracker's side and entry: it is exited instead. */
  | { readonly kind: "unfit"; readonly problem: string }
  /** The tracker changed meanwhile (a plan change, an exit); looked at again on the next claim. */
  | { readonly kind: "raced" };

/** The tracker's rules with the session's fallback rules laid over them. */
export function tightenedRules(tracker: TrackerRecord, fallback: ExitPlanRules): ExitPlanRules {
  const { version: _version, ...current } = tracker.exitPlan ?? { version: 0 };
  return { ...current, ...fallback };
}

export async function tighten(store: TrackerStore, tracker: TrackerRecord, session: SessionRecord, nowMs: number): Promise<Tightening> {
  const rules = tightenedRules(tracker, session.fallbackPlan ?? {});
  if (tracker.exitPlan && sameRules(tracker.exitPlan, rules)) return { kind: "tightened", tracker };
  const problem = exitPlanProblem(rules, tracker.side, tracker.entryPrice, "fallback_plan");
  if (problem) return { kind: "unfit", problem };
  try {
    return { kind: "tightened", tracker: await changeExitPlan(store, tracker, rules, tracker.version, nowMs) };
  } catch (error) {
    if (isTradingCoreError(error, "failed-precondition") || isTradingCoreError(error, "not-found")) return { kind: "raced" };
    throw error;
  }
}
