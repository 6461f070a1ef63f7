/**
 * A tracker's price rules with every level resolved to a price once, when
 * the plan is set: what each tick is compared with. The time rules are not
 * here; the scheduler owns them.
 */
import type { Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { DistanceSpec } from "../domain/exit-plan.js";
import { Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { distanceAt, levelPrice } from "./levels.js";

export interface PriceRules {
  readonly orderNo: string;
  readonly side: Side;
  readonly entry: Money;
  readonly planVersion: number;
  readonly stopLoss?: Money;
  readonly takeProfit?: Money;
  readonly trailing?: {
    readonly distance: DistanceSpec;
    /** The price from which the trail arms; armed from the first tick when absent. */
    readonly activation?: Money;
    readonly step?: Money;
  };
  readonly peak?: {
    /** Share of the peak profit kept before the exit: 1 − give_back_percent / 100. */
    readonly keepShare: Money;
    /** Peak profit per unit, in points, at which the rule arms; above zero when absent. */
    readonly minProfit?: Money;
  };
}

const HUNDRED = new Money(100);

/** The tracker's price rules, or undefined when its plan has none. */
export function compilePriceRules(tracker: TrackerRecord): PriceRules | undefined {
  const plan = tracker.exitPlan;
  if (!plan || !(plan.stopLoss || plan.takeProfit || plan.trailingStop || plan.peakDrawdown)) return undefined;
  const { side, entryPrice: entry } = tracker;
  const trailing = plan.trailingStop;
  const peak = plan.peakDrawdown;
  return {
    orderNo: tracker.orderNo,
    side,
    entry,
    planVersion: plan.version,
    ...(plan.stopLoss ? { stopLoss: levelPrice(plan.stopLoss, side, entry, "loss") } : {}),
    ...(plan.takeProfit ? { takeProfit: levelPrice(plan.takeProfit, side, entry, "profit") } : {}),
    ...(trailing
      ? {
          trailing: {
            distance: trailing.distance,
            ...(trailing.activation ? { activation: levelPrice(trailing.activation, side, entry, "profit") } : {}),
            ...(trailing.step ? { step: trailing.step } : {}),
          },
        }
      : {}),
    ...(peak
      ? {
          peak: {
            keepShare: new Money(1).minus(peak.giveBackPercent.dividedBy(HUNDRED)),
            ...(peak.minProfit ? { minProfit: distanceAt(peak.minProfit, entry) } : {}),
          },
        }
      : {}),
  };
}

/** True when the rules move with ticks (trail, peak), not only compare with fixed levels. */
export function hasMovingRules(rules: PriceRules): boolean {
  return rules.trailing !== undefined || rules.peak !== undefined;
}
