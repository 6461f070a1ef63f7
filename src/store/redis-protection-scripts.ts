/**
 * The protection state's forward-only merge as a Lua script, the same rule
 * as protection-state-merge.ts, for many states per call. Decimals are compared with Lua's tonumber
 * (a double): two prices that differ only past the 15th significant digit
 * compare equal and the stored one is kept; the strings themselves are
 * stored exactly as written.
 */
import { defineScript, type CommandParser } from "redis";

/** Field order of the script's arguments and reply. */
export const PROTECTION_FIELDS = [
  "planVersion",
  "trailArmed",
  "trailHighWater",
  "trailLevel",
  "peakArmed",
  "peakProfit",
  "lastTickTimeMs",
  "lastTickPrice",
] as const;

/**
 * KEYS: the state hashes. ARGV: for each key in turn, one argument: its side
 * ("LONG"/"SHORT") then its fields in PROTECTION_FIELDS order ("" for absent),
 * each followed by "|" (no field holds one: they are decimals, integers and
 * flags). One argument a state, not nine: node-redis encodes, and Redis parses,
 * every argument on its own, and that was a fifth of a flush's CPU. Replies, for each
 * key in turn, 0 when the store now holds exactly the fields sent (the common
 * case, so the reply stays small), else the stored fields after the merge, in
 * the same order ("" for absent).
 */
export const ADVANCE_PROTECTION = defineScript({
  SCRIPT: `
local names = {${PROTECTION_FIELDS.map((f) => `'${f}'`).join(", ")}}
local count = #names
local function further(a, b, upwards)
  if a == '' then return b end
  if b == '' then return a end
  local x, y = tonumber(a), tonumber(b)
  if upwards then
    if y > x then return b end
  else
    if y < x then return b end
  end
  return a
end
local function either(a, b) if a == '1' or b == '1' then return '1' end return '0' end
local function write(key, stored, incoming, values)
  local present, absent, same = {}, {}, true
  for i = 1, count do
    if values[i] ~= incoming[i] then same = false end
    if values[i] ~= '' then
      present[#present + 1] = names[i]
      present[#present + 1] = values[i]
    elseif stored[i] ~= '' then
      absent[#absent + 1] = names[i]
    end
  end
  if #absent > 0 then redis.call('hdel', key, unpack(absent)) end
  if #present > 0 then redis.call('hset', key, unpack(present)) end
  if same then return 0 end
  return values
end
local function advance(key, up, incoming)
  local stored = redis.call('hmget', key, unpack(names))
  for i = 1, count do if not stored[i] then stored[i] = '' end end
  if stored[1] == '' or tonumber(incoming[1]) > tonumber(stored[1]) then return write(key, stored, incoming, incoming) end
  if tonumber(incoming[1]) < tonumber(stored[1]) then return stored end
  if tonumber(incoming[7] ~= '' and incoming[7] or '0') < tonumber(stored[7] ~= '' and stored[7] or '0') then return stored end
  return write(key, stored, incoming, {
    incoming[1],
    either(stored[2], incoming[2]),
    further(stored[3], incoming[3], up),
    further(stored[4], incoming[4], up),
    either(stored[5], incoming[5]),
    further(stored[6], incoming[6], true),
    incoming[7],
    incoming[8],
  })
end
local replies = {}
for k = 1, #KEYS do
  local incoming, i = {}, 0
  for field in string.gmatch(ARGV[k], '([^|]*)|') do incoming[i] = field; i = i + 1 end
  replies[k] = advance(KEYS[k], incoming[0] == 'LONG', incoming)
end
return replies`,
  parseCommand(parser: CommandParser, states: readonly ProtectionStateArguments[]) {
    parser.push(String(states.length));
    for (const { key } of states) parser.pushKey(key);
    for (const { side, fields } of states) parser.push(`${side}|${fields.join("|")}|`);
  },
  transformReply(reply: unknown): Array<string[] | undefined> {
    return (reply as unknown[]).map((stored) => (Array.isArray(stored) ? stored.map(String) : undefined));
  },
});

/** One state's arguments to ADVANCE_PROTECTION: its hash, its side ("LONG"/"SHORT"), its fields in PROTECTION_FIELDS order. */
export interface ProtectionStateArguments {
  readonly key: string;
  readonly side: string;
  readonly fields: readonly string[];
}

export const PROTECTION_SCRIPTS = { protectionAdvance: ADVANCE_PROTECTION };
