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
 * KEYS: the state hashes. ARGV[1]: for each key in turn, its side
 * ("LONG"/"SHORT") then its fields in PROTECTION_FIELDS order ("" for absent),
 * as one JSON array of arrays. One argument for the call, decoded by Redis's
 * cjson in C: node-redis encodes, and Redis parses, every argument on its own,
 * and splitting a joined one in Lua cost more than the merge's two commands.
 * Every field is written, "" for an absent one (read back as absent), so a
 * write is one HSET. Replies, for each key in turn, 0 when the store now holds
 * exactly the fields sent (the common case, so the reply stays small), else the
 * stored fields after the merge, in the same order ("" for absent).
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
local states = cjson.decode(ARGV[1])
local replies = {}
for k = 1, #KEYS do
  local key, sent = KEYS[k], states[k]
  local stored = redis.call('hmget', key, unpack(names))
  for i = 1, count do if not stored[i] then stored[i] = '' end end
  local values
  if stored[1] == '' or tonumber(sent[2]) > tonumber(stored[1]) then
    values = {${PROTECTION_FIELDS.map((_, i) => `sent[${i + 2}]`).join(", ")}}
  elseif tonumber(sent[2]) == tonumber(stored[1])
    and tonumber(sent[8] ~= '' and sent[8] or '0') >= tonumber(stored[7] ~= '' and stored[7] or '0') then
    local up = sent[1] == 'LONG'
    values = {
      sent[2],
      either(stored[2], sent[3]),
      further(stored[3], sent[4], up),
      further(stored[4], sent[5], up),
      either(stored[5], sent[6]),
      further(stored[6], sent[7], true),
      sent[8],
      sent[9],
    }
  end
  if values == nil then
    replies[k] = stored
  else
    local kept = true
    for i = 1, count do if values[i] ~= stored[i] then kept = false break end end
    -- Another process of the fleet wrote this very state already: nothing to write.
    if not kept then redis.call('hset', key, ${PROTECTION_FIELDS.map((_, i) => `names[${i + 1}], values[${i + 1}]`).join(", ")}) end
    local same = true
    for i = 1, count do if values[i] ~= sent[i + 1] then same = false break end end
    if same then replies[k] = 0 else replies[k] = values end
  end
end
return replies`,
  parseCommand(parser: CommandParser, states: readonly ProtectionStateArguments[]) {
    parser.push(String(states.length));
    for (const { key } of states) parser.pushKey(key);
    parser.push(JSON.stringify(states.map(({ side, fields }) => [side, ...fields])));
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
