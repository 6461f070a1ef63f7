/**
 * The broker's order rate limits, every window at once (Dhan documents per
 * second, minute, hour and day limits per account), as a port with two
 * adapters: in process (one tradingcore per account) and Redis (every
 * process sharing the account shares one budget, redis-order-rate-limit.ts).
 *
 * Both keep a sliding log of the orders admitted: a slot is taken only when
 * every window (now − period, now] holds fewer than its limit, and a refusal
 * says when the fullest window frees a slot. A sliding log and not a cell
 * rate algorithm: GCRA with a burst of the whole limit admits up to twice the
 * limit in one window, and without the burst it spreads a day's 7,000 orders
 * one every 12 s, useless for a burst of exits. The log holds at most the
 * largest limit's worth of timestamps.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";

export interface RateWindow {
  /** Most orders admitted in any `periodMs`. */
  readonly limit: number;
  readonly periodMs: number;
}

export type RateDecision = { readonly taken: true } | { readonly taken: false; readonly retryAfterMs: number };

export interface OrderRateLimiter {
  /**
   * Takes one slot in every window at `nowMs` (epoch ms), or none: when a
   * window is full, answers how long until every window has room again.
   */
  tryTake(nowMs: number): Promise<RateDecision>;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Dhan's documented order limits: 10 a second (its notice of the new regulatory limit; 25 before), 250 a minute, 1,000 an hour, 7,000 a day. */
export const DHAN_ORDER_RATE_LIMITS = "10/s,250/m,1000/h,7000/d";

/**
 * Parses a comma-separated list of `limit/unit` windows (`10/s,250/m`), the
 * unit one of s, m, h, d, optionally with a count (`5/10s`); "" means none.
 */
export function parseRateWindows(text: string): RateWindow[] {
  if (text.trim() === "" || text.trim() === "none") return [];
  return text.split(",").map((part) => {
    const match = /^\s*(\d{1,7})\s*\/\s*(\d{0,5})\s*([smhd])\s*$/.exec(part);
    if (!match) throw new TradingCoreError("invalid-argument", `rate window "${part.trim()}" is not limit/unit (e.g. 250/m)`);
    const limit = Number(match[1]);
    const periodMs = Number(match[2] || "1") * UNITS[match[3]!]!;
    if (limit < 1 || periodMs < 1)
      throw new TradingCoreError("invalid-argument", `rate window "${part.trim()}" must allow at least one order`);
    return { limit, periodMs };
  });
}

export function formatRateWindows(windows: readonly RateWindow[]): string {
  return windows.map((w) => `${w.limit}/${w.periodMs / 1000}s`).join(",");
}

/** The sliding log in this process's memory. */
export class MemoryOrderRateLimiter implements OrderRateLimiter {
  /** Admission times, ascending. */
  private readonly stamps: number[] = [];
  private readonly longestMs: number;

  constructor(private readonly windows: readonly RateWindow[]) {
    this.longestMs = Math.max(0, ...windows.map((w) => w.periodMs));
  }

  async tryTake(nowMs: number): Promise<RateDecision> {
    while (this.stamps.length > 0 && this.stamps[0]! <= nowMs - this.longestMs) this.stamps.shift();
    let waitMs = 0;
    for (const { limit, periodMs } of this.windows) {
      const first = firstAfter(this.stamps, nowMs - periodMs);
      const count = this.stamps.length - first;
      if (count >= limit) waitMs = Math.max(waitMs, this.stamps[first + count - limit]! + periodMs - nowMs);
    }
    if (waitMs > 0) return { taken: false, retryAfterMs: waitMs };
    this.stamps.splice(firstAfter(this.stamps, nowMs), 0, nowMs);
    return { taken: true };
  }
}

/** Index of the first stamp greater than `t` (binary search). */
function firstAfter(stamps: readonly number[], t: number): number {
  let low = 0;
  let high = stamps.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (stamps[mid]! <= t) low = mid + 1;
    else high = mid;
  }
  return low;
}
