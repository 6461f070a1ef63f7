import { describe, expect, it } from "vitest";
import { Side } from "../../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../../gen/tradingcore/v1/protection_pb.js";
import { type ExitPlanRules, freshProtectionState } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import { exitPlanProblem } from "../../../src/protection/exit-plan-validation.js";
import { compilePriceRules } from "../../../src/protection/price-rules.js";
import { evaluateTick } from "../../../src/protection/tick-evaluation.js";
import { newTrackerFromSpec } from "../../../src/store/tracker-query.js";
import { trackerSpec } from "../../support/exit-fixtures.js";

const ENTRY = new Money("100");
const price = (value: string) => ({ kind: "price" as const, value: new Money(value) });
const points = (value: string) => ({ kind: "points" as const, value: new Money(value) });
const percent = (value: string) => ({ kind: "percent" as const, value: new Money(value) });

describe("exitPlanProblem", () => {
  it.each<[string, Side, ExitPlanRules, string]>([
    ["a LONG stop loss at the entry", Side.LONG, { stopLoss: price("100") }, "exit_plan.stop_loss.price must be below the entry price 100"],
    [
      "a SHORT stop loss below the entry",
      Side.SHORT,
      { stopLoss: price("99") },
      "exit_plan.stop_loss.price must be above the entry price 100",
    ],
    ["a LONG take profit below the entry", Side.LONG, { takeProfit: price("99.95") }, "exit_plan.take_profit.price must be above"],
    ["a stop loss offset that reaches zero", Side.LONG, { stopLoss: points("100") }, "exit_plan.stop_loss.points puts the level at 0"],
    ["a SHORT take profit of 100 percent", Side.SHORT, { takeProfit: percent("100") }, "exit_plan.take_profit.percent puts the level at 0"],
    [
      "a trail of 100 percent",
      Side.LONG,
      { trailingStop: { distance: percent("100") } },
      "exit_plan.trailing_stop.distance.percent must be less than 100",
    ],
    [
      "an activation on the loss side",
      Side.LONG,
      { trailingStop: { distance: points("1"), activation: price("90") } },
      "exit_plan.trailing_stop.activation.price must be above",
    ],
    [
      "a give-back over 100 percent",
      Side.LONG,
      { peakDrawdown: { giveBackPercent: new Money("101") } },
      "exit_plan.peak_drawdown.give_back_percent",
    ],
    [
      "a session end at 24:00",
      Side.LONG,
      { sessionEnd: { kind: "at", localTime: "24:00", timeZone: "Asia/Kolkata" } },
      "exit_plan.session_end.local_time",
    ],
    [
      "an unknown time zone",
      Side.LONG,
      { sessionEnd: { kind: "at", localTime: "15:15", timeZone: "Asia/Nowhere" } },
      "exit_plan.session_end.time_zone",
    ],
    ["a holding time of zero", Side.LONG, { timeExit: { kind: "after", afterMs: 0 } }, "exit_plan.time_exit.after"],
  ])("refuses %s, naming the field", (_name, side, rules, message) => {
    expect(exitPlanProblem(rules, side, ENTRY)).toContain(message);
  });

  it("allows levels on the right side, in every form, and a time exit in the past", () => {
    const rules: ExitPlanRules = {
      stopLoss: percent("2"),
      takeProfit: price("90"),
      trailingStop: { distance: percent("1"), activation: points("1"), step: new Money("0.05") },
      peakDrawdown: { giveBackPercent: new Money("100"), minProfit: percent("1") },
      timeExit: { kind: "at", atMs: 0 },
      sessionEnd: { kind: "at", localTime: "15:15", timeZone: "Asia/Kolkata" },
    };
    expect(exitPlanProblem(rules, Side.SHORT, ENTRY)).toBeUndefined();
  });
});

describe("percent levels and distances", () => {
  it("resolve from the entry for fixed levels and from the best price for the trail", () => {
    const tracker = newTrackerFromSpec(
      trackerSpec("P", { entryPrice: ENTRY, exitPlan: { stopLoss: percent("2.5"), trailingStop: { distance: percent("1") }, version: 1 } }),
      0,
    );
    const rules = compilePriceRules(tracker)!;
    expect(rules.stopLoss?.toFixed()).toBe("97.5");
    const first = evaluateTick(rules, freshProtectionState(1), new Money("120"), 1);
    expect(first.state.trailLevel?.toFixed()).toBe("118.8");
    const fired = evaluateTick(rules, first.state, new Money("118.8"), 2);
    expect(fired.trigger).toMatchObject({ rule: ProtectionRule.TRAILING_STOP, planVersion: 1, tickTimeMs: 2 });
    expect(fired.trigger?.level?.toFixed()).toBe("118.8");
  });
});
