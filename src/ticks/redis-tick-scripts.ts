/**
 * The tick write as a Lua script: a tick replaces the stored one only when it
 * is not older, so processes publishing the same instrument out of order
 * converge on the newest tick.
 */
import { defineScript, type CommandParser } from "redis";

/** KEYS: tick hash. ARGV: ltp (decimal string), ts (epoch ms), key TTL ms (0 = none). Answers 1 written, 0 older. */
export const WRITE_TICK = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local stored = tonumber(redis.call('hget', KEYS[1], 'ts') or '-1')
if tonumber(ARGV[2]) < stored then return 0 end
redis.call('hset', KEYS[1], 'ltp', ARGV[1], 'ts', ARGV[2])
if ARGV[3] ~= '0' then redis.call('pexpire', KEYS[1], ARGV[3]) end
return 1`,
  parseCommand(parser: CommandParser, key: string, ltp: string, timeMs: number, ttlMs: number) {
    parser.pushKey(key);
    parser.push(ltp, String(timeMs), String(ttlMs));
  },
  transformReply: (reply: unknown) => Number(reply),
});

export const TICK_SCRIPTS = { tickWrite: WRITE_TICK };
