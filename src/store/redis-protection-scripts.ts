/**
 * The protection state's forward-only merge as one Lua script, the same rule
 * as protection-state-merge.ts. Decimals are compared with Lua's tonumber
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
 * KEYS: the state hash. ARGV: side ("LONG"/"SHORT"), then the fields in
 * PROTECTION_FIELDS order ("" for absent). Replies the stored fields after
 * the merge, in the same order ("" for absent).
 */
export const ADVANCE_PROTECTION = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local names = {${PROTECTION_FIELDS.map((f) => `'${f}'`).join(", ")}}
local stored = redis.call('hmget', KEYS[1], unpack(names))
for i = 1, #names do if not stored[i] then stored[i] = '' end end
local incoming = {}
for i = 1, #names do incoming[i] = ARGV[i + 1] end
local function write(values)
  local present, absent = {}, {}
  for i = 1, #names do
    if values[i] ~= '' then
      present[#present + 1] = names[i]
      present[#present + 1] = values[i]
    elseif stored[i] ~= '' then
      absent[#absent + 1] = names[i]
    end
  end
  if #absent > 0 then redis.call('hdel', KEYS[1], unpack(absent)) end
  if #present > 0 then redis.call('hset', KEYS[1], unpack(present)) end
  return values
end
if stored[1] == '' or tonumber(incoming[1]) > tonumber(stored[1]) then return write(incoming) end
if tonumber(incoming[1]) < tonumber(stored[1]) then return stored end
if tonumber(incoming[7] ~= '' and incoming[7] or '0') < tonumber(stored[7] ~= '' and stored[7] or '0') then return stored end
local up = ARGV[1] == 'LONG'
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
return write({
  incoming[1],
  either(stored[2], incoming[2]),
  further(stored[3], incoming[3], up),
  further(stored[4], incoming[4], up),
  either(stored[5], incoming[5]),
  further(stored[6], incoming[6], true),
  incoming[7],
  incoming[8],
})`,
  parseCommand(parser: CommandParser, key: string, side: string, fields: readonly string[]) {
    parser.pushKey(key);
    parser.push(side, ...fields);
  },
  transformReply(reply: unknown): string[] {
    return (reply as unknown[]).map(String);
  },
});

export const PROTECTION_SCRIPTS = { protectionAdvance: ADVANCE_PROTECTION };
