/**
 * The price rules against the reference model (price-path-model.ts) on
 * random price paths, for every rule alone and all together, LONG and
 * SHORT: the exit fires at exactly the first tick the model says, once,
 * with the model's rule and level, and the trail equals the model's at
 * every tick before it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Segment, Side } from "../../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../../gen/tradingcore/v1/protection_pb.js";
import { freshProtectionState, type ExitPlan } from "../../../src/domain/exit-plan.js";
import { Money } from "../../../src/domain/money.js";
import { compilePriceRules } from "../../../src/protection/price-rules.js";
import { evaluateTick } from "../../../src/protection/tick-evaluation.js";
import { ProtectionBook } from "../../../src/protection/protection-book.js";
import { newTrackerFromSpec } from "../../../src/store/tracker-query.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import { trackerSpec } from "../../support/exit-fixtures.js";
import { type ModelRules, runModel } from "./price-path-model.js";

const TICK = new Money("0.05");
const ENTRY_TICKS = 20_000; // 1000.00

const points = (ticks: number) => ({ kind: "points" as const, value: TICK.times(ticks) });

function planOf(rules: ModelRules): ExitPlan {
  return {
    ...(rules.stopLoss === undefined ? {} : { stopLoss: points(rules.stopLoss) }),
    ...(rules.takeProfit === undefined ? {} : { takeProfit: points(rules.takeProfit) }),
    ...(rules.trailing
      ? {
          trailingStop: {
            distance: points(rules.trailing.distance),
            ...(rules.trailing.activation === undefined ? {} : { activation: points(rules.trailing.activation) }),
            ...(rules.trailing.step === undefined ? {} : { step: TICK.times(rules.trailing.step) }),
          },
        }
      : {}),
    ...(rules.peak
      ? {
          peakDrawdown: {
            giveBackPercent: new Money(rules.peak.giveBack),
            ...(rules.peak.minProfit === undefined ? {} : { minProfit: points(rules.peak.minProfit) }),
          },
        }
      : {}),
    version: 1,
  };
}

/** A profit in ticks as the price of a position of `side`. */
function priceOf(u: number, side: Side): Money {
  return TICK.times(side === Side.LONG ? ENTRY_TICKS + u : ENTRY_TICKS - u);
}

function profitTicksOf(price: Money, side: Side): number {
  const ticks = price.dividedBy(TICK).toNumber() - ENTRY_TICKS;
  // + 0: a SHORT's zero is -0, which toBe() tells from 0.
  return (side === Side.LONG ? ticks : -ticks) + 0;
}

const RULE_NAMES: Record<string, ProtectionRule> = {
  STOP_LOSS: ProtectionRule.STOP_LOSS,
  TRAILING_STOP: ProtectionRule.TRAILING_STOP,
  PEAK_DRAWDOWN: ProtectionRule.PEAK_DRAWDOWN,
  TAKE_PROFIT: ProtectionRule.TAKE_PROFIT,
};

// Small offsets and small steps, so that paths often land exactly on a level (where "reaches" is decided).
const offset = fc.integer({ min: 1, max: 60 });
const stopLoss = fc.record({ stopLoss: offset });
const takeProfit = fc.record({ takeProfit: offset });
const trailing = fc.record({
  trailing: fc.record(
    { distance: offset, activation: fc.integer({ min: 1, max: 40 }), step: fc.integer({ min: 1, max: 12 }) },
    { requiredKeys: ["distance"] },
  ),
});
const peak = fc.record({
  peak: fc.record(
    { giveBack: fc.integer({ min: 1, max: 100 }), minProfit: fc.integer({ min: 1, max: 40 }) },
    { requiredKeys: ["giveBack"] },
  ),
});
const everything = fc.tuple(stopLoss, takeProfit, trailing, peak).map(([a, b, c, d]) => ({ ...a, ...b, ...c, ...d }) as ModelRules);

/** A random walk of profit ticks: steps of up to 6 ticks either way, 1 to 200 ticks long. */
const path = fc
  .tuple(fc.integer({ min: -10, max: 10 }), fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 0, maxLength: 199, size: "max" }))
  .map(([start, steps]) => {
    const walk = [start];
    for (const step of steps) walk.push(walk[walk.length - 1]! + step);
    return walk;
  });

const side = fc.constantFrom(Side.LONG, Side.SHORT);

function checkAgainstModel(rules: ModelRules, walk: readonly number[], positionSide: Side): void {
  const tracker = newTrackerFromSpec(
    trackerSpec("P-1", { side: positionSide, entryPrice: TICK.times(ENTRY_TICKS), exitPlan: planOf(rules) }),
    0,
  );
  const compiled = compilePriceRules(tracker)!;
  const expected = runModel(rules, walk);
  let state = freshProtectionState(1);
  let fired = 0;
  for (let i = 0; i < walk.length; i++) {
    const evaluation = evaluateTick(compiled, state, priceOf(walk[i]!, positionSide), 1_000 + i);
    state = evaluation.state;
    const model = expected[i]!;
    expect(state.trailLevel === undefined ? undefined : profitTicksOf(state.trailLevel, positionSide), `trail at tick ${i}`).toBe(
      model.trail,
    );
    if (!evaluation.trigger) {
      expect(model.fired, `the model fires at tick ${i}`).toBeUndefined();
      continue;
    }
    fired++;
    expect(model.fired, `fired at tick ${i}`).toBeDefined();
    expect(evaluation.trigger.rule).toBe(RULE_NAMES[model.fired!.rule]);
    expect(profitTicksOf(evaluation.trigger.level!, positionSide)).toBeCloseTo(model.fired!.level, 9);
    expect(evaluation.trigger.tickTimeMs).toBe(1_000 + i);
    break;
  }
  expect(fired).toBe(expected.some((tick) => tick.fired) ? 1 : 0);
}

describe("price rules on random paths, against the reference model", () => {
  for (const [name, rules] of [
    ["a stop loss", stopLoss],
    ["a take profit", takeProfit],
    ["a trailing stop (distance, activation, step)", trailing],
    ["a peak drawdown", peak],
    ["every rule at once", everything],
  ] as const) {
    it(`fire ${name} at exactly the first tick that reaches it, once, with the model's level, LONG and SHORT`, () => {
      fc.assert(
        fc.property(rules as fc.Arbitrary<ModelRules>, path, side, (r, walk, s) => checkAgainstModel(r, walk, s)),
        { numRuns: 300 },
      );
    });
  }
});

/** Any mix of rules, trails without a peak included (the book defers their runs of new highs). */
const anyRules: fc.Arbitrary<ModelRules> = fc.oneof(
  everything,
  trailing,
  fc.tuple(stopLoss, takeProfit, trailing).map(([a, b, c]) => ({ ...a, ...b, ...c })),
  peak,
  stopLoss,
);

/** Trails without a peak only: every tracker of the instrument shares its runs of new highs (instrument-trackers.ts). */
const trailsOnly: fc.Arbitrary<ModelRules> = fc.oneof(
  trailing,
  fc.tuple(stopLoss, takeProfit, trailing).map(([a, b, c]) => ({ ...a, ...b, ...c })),
);

/**
 * Trails in points without a step, with or without a stop loss and a take profit: a run of new highs takes the
 * pull-backs clear of every trail and stop loss without ending (instrument-trackers.ts).
 */
const plainTrails: fc.Arbitrary<ModelRules> = fc
  .tuple(
    fc.record({ distance: offset, activation: fc.integer({ min: 1, max: 40 }) }, { requiredKeys: ["distance"] }),
    fc.option(offset, { nil: undefined }),
    fc.option(offset, { nil: undefined }),
  )
  .map(([trail, stop, profit]) => ({
    trailing: trail,
    ...(stop === undefined ? {} : { stopLoss: stop }),
    ...(profit === undefined ? {} : { takeProfit: profit }),
  }));

describe("the book's quiet bands on random paths", () => {
  // A read or a flush ends a run of new highs: the plain trails are read less often, so that their runs meet pull-backs.
  it.each([
    ["any rules", anyRules, 5, 7],
    ["trails only", trailsOnly, 5, 7],
    ["trails in points without a step", plainTrails, 19, 23],
  ] as const)(
    "fires each of several trackers of one instrument (%s) at the same tick, with the same rule and level, as evaluating every tick exactly, and keeps the same trails",
    (_name, rulesOf, readEvery, flushEvery) => {
      fc.assert(
        fc.property(fc.array(rulesOf, { minLength: 1, maxLength: 4 }), path, side, (ruleSets, walk, positionSide) => {
          const trackers = ruleSets.map((rules, index) =>
            newTrackerFromSpec(
              trackerSpec(`B-${index}`, { side: positionSide, entryPrice: TICK.times(ENTRY_TICKS), exitPlan: planOf(rules) }),
              0,
            ),
          );
          const fired: string[] = [];
          let at = 0;
          // Fed as the server feeds it: through the tick cache's subscriptions.
          const ticks = new MemoryTickCache();
          const book = new ProtectionBook(
            { staleAfterMs: Number.POSITIVE_INFINITY },
            () => 0,
            (watched, trigger) => {
              fired.push(`${watched.tracker.orderNo} ${at} ${ProtectionRule[trigger.rule]} ${trigger.level!.toFixed()}`);
              return true;
            },
            undefined,
            ticks,
          );
          for (const tracker of trackers) book.watch(tracker);
          const exact = trackers.map((tracker) => ({ rules: compilePriceRules(tracker)!, state: freshProtectionState(1), done: false }));
          const expected: string[] = [];
          for (at = 0; at < walk.length; at++) {
            const price = priceOf(walk[at]!, positionSide);
            ticks.write([{ segment: Segment.NSE_EQ, securityId: "1333", ltp: price, timeMs: at }]);
            // A flush now and then: it ends a run of new highs as a read does, and marks the trackers clean.
            if (at % flushEvery === 3) book.takeDirty();
            exact.forEach((each, index) => {
              if (each.done) return;
              const evaluation = evaluateTick(each.rules, each.state, price, at);
              each.state = evaluation.state;
              if (evaluation.trigger) {
                each.done = true;
                expected.push(`B-${index} ${at} ${ProtectionRule[evaluation.trigger.rule]} ${evaluation.trigger.level!.toFixed()}`);
              } else if (at % readEvery === 4) {
                // Read now and then only: a read applies a pending run of new highs, which the book otherwise keeps.
                const held = book.get(`B-${index}`)!.state;
                expect(held.trailLevel?.toFixed(), `B-${index} trail at tick ${at}`).toBe(each.state.trailLevel?.toFixed());
                expect(held.trailHighWater?.toFixed(), `B-${index} best price at tick ${at}`).toBe(each.state.trailHighWater?.toFixed());
              }
            });
          }
          expect(fired.sort()).toEqual(expected.sort());
        }),
        { numRuns: 300 },
      );
    },
  );
});
