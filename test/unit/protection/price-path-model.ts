/**
 * A small reference model of the price rules, for the property tests: it
 * works in integer ticks of profit (u = side × (price − entry), in 0.05
 * steps), recomputes everything from the whole path so far, and shares no
 * code with src/protection/.
 */
export interface ModelRules {
  /** Points below (LONG) or above (SHORT) the entry, in ticks. */
  readonly stopLoss?: number;
  readonly takeProfit?: number;
  readonly trailing?: { readonly distance: number; readonly activation?: number; readonly step?: number };
  /** Percent given back (1..100) and the arming profit in ticks. */
  readonly peak?: { readonly giveBack: number; readonly minProfit?: number };
}

export type ModelRule = "STOP_LOSS" | "TRAILING_STOP" | "PEAK_DRAWDOWN" | "TAKE_PROFIT";

export interface ModelTick {
  /** The trail after this tick, in profit ticks; undefined until armed. */
  readonly trail?: number;
  readonly fired?: { readonly rule: ModelRule; readonly level: number };
}

/** What the model says about each tick of `path` (profit ticks), up to and including the first that fires. */
export function runModel(rules: ModelRules, path: readonly number[]): ModelTick[] {
  const ticks: ModelTick[] = [];
  for (let i = 0; i < path.length; i++) {
    const u = path[i]!;
    const trail = trailAfter(rules, path.slice(0, i + 1));
    const fired = firedAt(rules, path.slice(0, i + 1), trail);
    ticks.push({ ...(trail === undefined ? {} : { trail }), ...(fired ? { fired } : {}) });
    if (fired) break;
    void u;
  }
  return ticks;
}

function trailAfter(rules: ModelRules, prefix: readonly number[]): number | undefined {
  const trailing = rules.trailing;
  if (!trailing) return undefined;
  const armedAt = prefix.findIndex((u) => trailing.activation === undefined || u >= trailing.activation);
  if (armedAt < 0) return undefined;
  let best = prefix[armedAt]!;
  let level = best - trailing.distance;
  for (const u of prefix.slice(armedAt + 1)) {
    if (u <= best) continue;
    best = u;
    if (trailing.step === undefined) level = Math.max(level, best - trailing.distance);
    else while (best - trailing.distance - level >= trailing.step) level += trailing.step;
  }
  return level;
}

function firedAt(rules: ModelRules, prefix: readonly number[], trail: number | undefined): ModelTick["fired"] {
  const u = prefix[prefix.length - 1]!;
  if (rules.stopLoss !== undefined && u <= -rules.stopLoss) return { rule: "STOP_LOSS", level: -rules.stopLoss };
  if (trail !== undefined && u <= trail) return { rule: "TRAILING_STOP", level: trail };
  if (rules.peak) {
    const peak = Math.max(...prefix);
    const armed = rules.peak.minProfit === undefined ? peak > 0 : peak >= rules.peak.minProfit;
    // Exact in integers: u <= peak × (100 − giveBack) / 100.
    if (armed && u * 100 <= peak * (100 - rules.peak.giveBack)) {
      return { rule: "PEAK_DRAWDOWN", level: (peak * (100 - rules.peak.giveBack)) / 100 };
    }
  }
  if (rules.takeProfit !== undefined && u >= rules.takeProfit) return { rule: "TAKE_PROFIT", level: rules.takeProfit };
  return undefined;
}
