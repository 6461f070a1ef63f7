/**
 * Prices for a rehearsal: every `intervalMs` of the simulator's clock, each
 * subscribed instrument moves a few ticks of 0.05 up or down (a seeded random
 * walk, never below one tick), so a strategy-less tradingcore sees live LTPs.
 */
import { Money } from "../domain/money.js";
import { seededRandom } from "../router/seeded-random.js";

const TICK = new Money("0.05");
const START = "100";

export class TickWalk {
  private readonly random: () => number;

  constructor(
    private readonly intervalMs: number,
    seed: number,
    private lastMs: number,
  ) {
    this.random = seededRandom(seed ^ 0x5eed);
  }

  /** The next price of each subscribed instrument when a step is due, else nothing. */
  due(nowMs: number, instruments: ReadonlySet<string>, lastPrices: ReadonlyMap<string, string>): [string, string][] {
    if (nowMs - this.lastMs < this.intervalMs) return [];
    this.lastMs = nowMs;
    return [...instruments].map((key) => {
      const ticks = Math.floor(this.random() * 7) - 3;
      const next = new Money(lastPrices.get(key) ?? START).plus(TICK.times(ticks));
      return [key, (next.lessThan(TICK) ? TICK : next).toFixed()];
    });
  }
}
