/**
 * The tick write as a Lua script: a tick replaces the stored one only when it
 * is not older, so processes publishing the same instrument out of order
 * converge on the newest tick. One call writes a whole batch (one round trip
 * and one reply per batch, not per tick); each key is checked on its own.
 */
import { defineScript, type CommandParser } from "redis";

/** One tick of a batch write. */
export interface TickWrite {
  /** `tick:{SEGMENT}:{SECURITY_ID}`. */
  readonly key: string;
  /** Decimal string. */
  readonly ltp: string;
  /** Epoch ms. */
  readonly timeMs: number;
}

/**
 * KEYS: tick hashes. ARGV: key TTL ms (0 = none), then ltp (decimal string) and ts (epoch ms) per key, in KEYS order.
 * Answers how many were written (the others were older than the stored tick).
 */
export const WRITE_TICKS = defineScript({
  SCRIPT: `
local ttl = ARGV[1]
local written = 0
for i = 1, #KEYS do
  local ts = ARGV[2 * i + 1]
  local stored = tonumber(redis.call('hget', KEYS[i], 'ts') or '-1')
  if tonumber(ts) >= stored then
    redis.call('hset', KEYS[i], 'ltp', ARGV[2 * i], 'ts', ts)
    if ttl ~= '0' then redis.call('pexpire', KEYS[i], ttl) end
    written = written + 1
  end
end
return written`,
  parseCommand(parser: CommandParser, ticks: readonly TickWrite[], ttlMs: number) {
    parser.pushKeysLength(ticks.map((tick) => tick.key)); // no NUMBER_OF_KEYS: the key count varies per call
    parser.push(String(ttlMs));
    for (const tick of ticks) parser.push(tick.ltp, String(tick.timeMs));
  },
  transformReply: (reply: unknown) => Number(reply),
});

export const TICK_SCRIPTS = { tickWriteMany: WRITE_TICKS };
