/**
 * The Lua side of Redlock, one script per step, loaded with `defineScript` so
 * node-redis sends EVALSHA and falls back to EVAL on NOSCRIPT (after SCRIPT
 * FLUSH or a restart the next call reloads the script by itself).
 *
 * Keys on every node: the lock key (the resource, value = the holder's random
 * value, PX = TTL) and `{resource}:fence`, the highest fencing token handed out
 * for the resource as this node knows it (no expiry: it must never go back).
 */
import { defineScript, type CommandParser } from "redis";

/**
 * SET NX PX and, only when set, INCR of the node's fence counter, atomically.
 * Answers the new counter, or -1 when someone else holds the key.
 *
 * A counter that did not exist (a new resource, or a node that lost its data
 * in a restart without AOF) starts at max(ARGV[3], the node's clock in µs
 * since the epoch) instead of 1, where 1 would leave the tracker store
 * refusing every new holder as fenced. Why both:
 * - The node's clock keeps what a clock in µs guarantees: a restarted counter
 *   starts above every token handed out before (tokens grow by 1 per acquire,
 *   far slower than a clock in µs).
 * - ARGV[3] is the client's proposal, the same value to every node of one
 *   acquire round: its own clock in µs plus a margin larger than the clock
 *   offset between it and the nodes. So the proposal is the max on every node
 *   whose counter is new, and those nodes agree: the token is on a quorum at
 *   once and acquiring takes one round trip. With the node's clock alone the
 *   nodes never agree (each reads its own µs) and every first acquire of a
 *   resource would need a second round to raise the lagging nodes.
 * - A node whose clock is ahead by more than the margin starts at its clock;
 *   the nodes then disagree and the client raises the others (EXTEND), which
 *   is slower, never less safe. Taking the proposal alone would let a client
 *   whose clock lags restart a vanished counter below tokens already used.
 * (Doubles hold µs timestamps exactly until the year 2255.)
 *
 * The counter expires ARGV[4] ms after the resource was last locked, so the
 * counters of exited trackers do not pile up on the nodes forever. That is
 * safe for the same reason a vanished counter is: a counter started again
 * days later starts at a clock reading days above every token the old one
 * handed out.
 */
export const ACQUIRE = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
local fence = redis.call('incr', KEYS[2])
if fence == 1 then
  local now = redis.call('time')
  fence = math.max(tonumber(ARGV[3]), tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('set', KEYS[2], string.format('%.0f', fence))
end
redis.call('pexpire', KEYS[2], ARGV[4])
return fence`,
  parseCommand(
    parser: CommandParser,
    lockKey: string,
    fenceKey: string,
    value: string,
    ttlMs: number,
    proposedFence: number,
    fenceIdleTtlMs: number,
  ) {
    parser.pushKeys([lockKey, fenceKey]);
    parser.push(value, String(ttlMs), String(proposedFence), String(fenceIdleTtlMs));
  },
  transformReply: asInteger,
});

/**
 * Only while the node still holds our value: PEXPIRE to a fresh TTL and raise
 * the fence counter to `token` (never lower it), its idle expiry renewed to
 * ARGV[4] ms. Answers 1 when held, 0 when not.
 * After an ACQUIRE whose nodes disagreed on the counter, this publishes the
 * chosen token to the nodes that lag, while the lock is held there.
 */
export const EXTEND = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
if tonumber(ARGV[3]) > tonumber(redis.call('get', KEYS[2]) or '0') then
  redis.call('set', KEYS[2], ARGV[3])
end
redis.call('pexpire', KEYS[2], ARGV[4])
return 1`,
  parseCommand(
    parser: CommandParser,
    lockKey: string,
    fenceKey: string,
    value: string,
    ttlMs: number,
    token: number,
    fenceIdleTtlMs: number,
  ) {
    parser.pushKeys([lockKey, fenceKey]);
    parser.push(value, String(ttlMs), String(token), String(fenceIdleTtlMs));
  },
  transformReply: asInteger,
});

/** DEL only when the value is ours. Answers 1 deleted, 0 absent, -1 held by another value. */
export const RELEASE = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local held = redis.call('get', KEYS[1])
if held == ARGV[1] then
  redis.call('del', KEYS[1])
  return 1
end
if held then return -1 end
return 0`,
  parseCommand(parser: CommandParser, lockKey: string, value: string) {
    parser.pushKey(lockKey);
    parser.push(value);
  },
  transformReply: asInteger,
});

export const REDLOCK_SCRIPTS = { redlockAcquire: ACQUIRE, redlockExtend: EXTEND, redlockRelease: RELEASE };

/** The fence counter key of a lock resource. */
export function fenceKeyOf(resource: string): string {
  return `${resource}:fence`;
}

/** Script replies are Lua integers; node-redis hands them over as JS numbers. */
function asInteger(reply: unknown): number {
  return Number(reply);
}
