/**
 * Due times in Redis: one sorted set, `{prefix}due-exits`, key → epoch ms.
 * A claim is one script (ZRANGEBYSCORE, then ZADD of the lease end), so two
 * processes polling at once never both get an entry; a restarted process
 * finds every due time, and one already past comes due at its first pass.
 */
import type { DueClaim, DueTimes } from "../protection/due-times.js";
import { redisCommand } from "./redis-command.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

/** KEYS: the set. ARGV: now, lease end, limit. Replies [key, due, ...]; epoch ms written with %.0f (Lua 5.1 would use exponents). */
const CLAIM_DUE = `
local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #ready, 2 do
  redis.call('ZADD', KEYS[1], ARGV[2], ready[i])
  ready[i + 1] = string.format('%.0f', tonumber(ready[i + 1]))
end
return ready
`;

/** KEYS: the set. ARGV: key, lease end. Removes the key only while it still holds that claim. */
const COMPLETE = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

type DueClient = Pick<RedisTrackerClient, "eval" | "zAdd" | "zRem" | "zScore">;

export class RedisDueTimes implements DueTimes {
  private readonly key: string;

  constructor(
    private readonly client: DueClient,
    keyPrefix: string,
    private readonly commandTimeoutMs: number,
  ) {
    this.key = `${keyPrefix}due-exits`;
  }

  async schedule(key: string, dueMs: number): Promise<void> {
    await this.call("schedule", () => this.client.zAdd(this.key, { score: dueMs, value: key }));
  }

  async cancel(key: string): Promise<void> {
    await this.call("cancel", () => this.client.zRem(this.key, key));
  }

  async claimDue(nowMs: number, leaseMs: number, limit: number): Promise<DueClaim[]> {
    const leaseUntilMs = nowMs + leaseMs;
    const reply = (await this.call("claim", () =>
      this.client.eval(CLAIM_DUE, { keys: [this.key], arguments: [String(nowMs), String(leaseUntilMs), String(limit)] }),
    )) as string[];
    const claims: DueClaim[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) claims.push({ key: reply[i]!, dueMs: Number(reply[i + 1]), leaseUntilMs });
    return claims;
  }

  async complete(claim: DueClaim): Promise<void> {
    await this.call("complete", () => this.client.eval(COMPLETE, { keys: [this.key], arguments: [claim.key, String(claim.leaseUntilMs)] }));
  }

  async dueTimeOf(key: string): Promise<number | undefined> {
    const score = await this.call("read", () => this.client.zScore(this.key, key));
    return score === null ? undefined : score;
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`due times ${what}`, this.commandTimeoutMs, operation);
  }
}
