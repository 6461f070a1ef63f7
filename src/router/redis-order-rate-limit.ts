/**
 * The order rate limits on Redis: one sorted set of admission times per
 * account (`{prefix}dhan:orders:{client id}`), checked and written by one Lua
 * script, so every process placing orders for the account draws on the same
 * budget and two of them can never both take the last slot. The times are
 * the callers' clocks: processes sharing an account should agree on the time
 * to well within a second (NTP), or a window is off by their drift.
 */
import { randomUUID } from "node:crypto";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { RedisTrackerClient } from "../store/redis-tracker-client.js";
import type { OrderRateLimiter, RateDecision, RateWindow } from "./order-rate-limit.js";

type LimitClient = Pick<RedisTrackerClient, "eval">;

/** KEYS: the log. ARGV: now, a unique member, then limit and period of each window. Answers 0 (taken) or ms to wait. */
const TAKE = `
local now = tonumber(ARGV[1])
local longest = 0
for i = 3, #ARGV, 2 do
  local period = tonumber(ARGV[i + 1])
  if period > longest then longest = period end
end
redis.call('zremrangebyscore', KEYS[1], '-inf', now - longest)
local wait = 0
for i = 3, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local period = tonumber(ARGV[i + 1])
  local from = '(' .. (now - period)
  local count = redis.call('zcount', KEYS[1], from, '+inf')
  if count >= limit then
    local oldest = redis.call('zrangebyscore', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
    local frees = tonumber(oldest[2]) + period - now
    if frees > wait then wait = frees end
  end
end
if wait > 0 then return math.ceil(wait) end
redis.call('zadd', KEYS[1], now, ARGV[2])
redis.call('pexpire', KEYS[1], longest)
return 0`;

export class RedisOrderRateLimiter implements OrderRateLimiter {
  private readonly windowArguments: string[];

  constructor(
    private readonly client: LimitClient,
    private readonly key: string,
    windows: readonly RateWindow[],
  ) {
    this.windowArguments = windows.flatMap((w) => [String(w.limit), String(w.periodMs)]);
  }

  async tryTake(nowMs: number): Promise<RateDecision> {
    if (this.windowArguments.length === 0) return { taken: true };
    const now = Math.floor(nowMs);
    let reply: unknown;
    try {
      reply = await this.client.eval(TAKE, {
        keys: [this.key],
        arguments: [String(now), `${now}:${randomUUID()}`, ...this.windowArguments],
      });
    } catch (error) {
      throw new TradingCoreError("unavailable", `order rate limit on Redis: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    const waitMs = Number(reply);
    return waitMs > 0 ? { taken: false, retryAfterMs: waitMs } : { taken: true };
  }
}
