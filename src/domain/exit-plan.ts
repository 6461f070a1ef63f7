/**
 * A tracker's exit plan, its moving state and the trigger it records, as the
 * engine and the stores see them: decimals for prices, epoch ms for times,
 * the contract's enums for rules.
 *
 * Invariants:
 * - Offsets (points, percent) are magnitudes, > 0; the tracker's side turns
 *   them into prices (levels.ts). An absolute price is > 0.
 * - `version` grows by one with every change of a tracker's plan; state and
 *   triggers name the version they were computed under.
 * - A ProtectionState only moves forward for one plan version (protection-state.ts).
 */
import type { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import type { Money } from "./money.js";

/** A price level: absolute, or an offset from the entry price in the direction the rule needs. */
export interface PriceLevelSpec {
  readonly kind: "price" | "points" | "percent";
  readonly value: Money;
}

/** A distance from a moving price: points, or percent of that price. */
export interface DistanceSpec {
  readonly kind: "points" | "percent";
  readonly value: Money;
}

export interface TrailingStopSpec {
  readonly distance: DistanceSpec;
  /** Profit-side level from which the trail arms; armed from the first tick when absent. */
  readonly activation?: PriceLevelSpec;
  /** Points: the trail moves only in whole steps of this size (Dhan's trailingJump). */
  readonly step?: Money;
}

export interface PeakDrawdownSpec {
  /** Percent of the peak open profit given back before the exit: (0, 100]. */
  readonly giveBackPercent: Money;
  /** Peak open profit (per unit) at which the rule arms; any profit above zero when absent. */
  readonly minProfit?: DistanceSpec;
}

export type TimeExitSpec = { readonly kind: "at"; readonly atMs: number } | { readonly kind: "after"; readonly afterMs: number };

export type SessionEndSpec =
  | { readonly kind: "at"; readonly localTime: string; readonly timeZone: string }
  /** No session-end square-off, whatever the segment's default. */
  | { readonly kind: "opt-out" };

/** The rules of one tracker; every rule optional. */
export interface ExitPlan {
  readonly stopLoss?: PriceLevelSpec;
  readonly takeProfit?: PriceLevelSpec;
  readonly trailingStop?: TrailingStopSpec;
  readonly peakDrawdown?: PeakDrawdownSpec;
  readonly timeExit?: TimeExitSpec;
  /** Absent: the segment's configured default applies. */
  readonly sessionEnd?: SessionEndSpec;
  /** 1 for the plan given at registration, one more with every change. */
  readonly version: number;
}

/** The rules of a plan without its version: what a request supplies. */
export type ExitPlanRules = Omit<ExitPlan, "version">;

/** Where a plan's moving rules stand after the ticks evaluated so far. */
export interface ProtectionState {
  readonly planVersion: number;
  readonly trailArmed: boolean;
  /** Best price since the trail armed (highest for a LONG, lowest for a SHORT). */
  readonly trailHighWater?: Money;
  readonly trailLevel?: Money;
  readonly peakArmed: boolean;
  /** Highest open profit per unit seen, in points. */
  readonly peakProfit?: Money;
  /** Epoch ms of the last tick evaluated. */
  readonly lastTickTimeMs?: number;
  readonly lastTickPrice?: Money;
}

/** A rule that fired, recorded on the tracker with the exit it starts. */
export interface ExitTrigger {
  readonly rule: ProtectionRule;
  /** The level the tick reached; absent for the time rules. */
  readonly level?: Money;
  readonly tickPrice?: Money;
  /** Epoch ms of the tick, or the due time of a time rule. */
  readonly tickTimeMs: number;
  readonly planVersion: number;
}

/** The state of a plan before any tick. */
export function freshProtectionState(planVersion: number): ProtectionState {
  return { planVersion, trailArmed: false, peakArmed: false };
}

/** True when two plans have the same rules (versions aside); decimals compare by value ("1.50" is "1.5"). */
export function sameRules(a: ExitPlanRules | undefined, b: ExitPlanRules | undefined): boolean {
  return rulesJson(a) === rulesJson(b);
}

function rulesJson(plan: ExitPlanRules | undefined): string {
  if (!plan) return "null";
  const { version: _version, ...rules } = plan as ExitPlan;
  // decimal.js's toJSON writes each decimal in its normalised form.
  return JSON.stringify(rules);
}
