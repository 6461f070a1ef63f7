/**
 * The trail's append and its time seek as Lua scripts, each atomic on the
 * Redis server.
 *
 * Keys: the stream (entry ids `<sequence>-0`), a hash of the last event
 * number each process appended, and a hash of the trail's last sequence and
 * append time. Each process numbers its own events 1, 2, 3, …: an event at or
 * below the number stored for its process is already in the stream and is
 * skipped, so a batch whose reply was lost is sent again without appending
 * anything twice.
 */
import { defineScript, type CommandParser } from "redis";

/** Shared Lua: the append time of an entry, the sequence of an id, the entry of a sequence. */
const HELPERS = `
local function time_of(entry)
  local fields = entry[2]
  for k = 1, #fields, 2 do
    if fields[k] == 't' then return tonumber(fields[k + 1]) end
  end
  return 0
end
local function seq_of(id) return tonumber(string.match(id, '^(%d+)')) end
local function id_of(seq) return string.format('%.0f', seq) .. '-0' end
local function entry_at(seq) return redis.call('xrange', KEYS[1], id_of(seq), id_of(seq))[1] end
`;

/**
 * Appends a batch of events, numbering them on from the trail's last
 * sequence, stamped with Redis's time (never below the last stamp), trimmed
 * to MAXLEN ~ and, when an age bound is set, to the first entry appended at
 * or after the cutoff, but never past the first entry of this batch.
 *
 * KEYS: stream, last-appended hash, state hash. ARGV: process, max length,
 * age cutoff ms ("0": no age bound), trim-when-first-older-than ms, field
 * count F, the F field names, then per event its number and its F values.
 * Replies the number of events appended.
 */
export const APPEND_TRAIL_EVENTS = defineScript({
  NUMBER_OF_KEYS: 3,
  SCRIPT: `${HELPERS}
local last = tonumber(redis.call('hget', KEYS[2], ARGV[1]) or '0')
local state = redis.call('hmget', KEYS[3], 'seq', 't')
local seq = tonumber(state[1] or '0')
if not state[1] then
  local newest = redis.call('xrevrange', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if newest then seq = seq_of(newest[1]) end
end
local clock = redis.call('time')
local t = math.max(tonumber(state[2] or '0'), tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000))
local stamp = string.format('%.0f', t)
local f = tonumber(ARGV[5])
local first_new = nil
local i = 6 + f
while i <= #ARGV do
  local number = tonumber(ARGV[i])
  if number > last then
    seq = seq + 1
    local entry = {'process', ARGV[1], 'local', ARGV[i], 't', stamp}
    for j = 1, f do
      entry[#entry + 1] = ARGV[5 + j]
      entry[#entry + 1] = ARGV[i + j]
    end
    redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[2], id_of(seq), unpack(entry))
    first_new = first_new or seq
    last = number
  end
  i = i + 1 + f
end
redis.call('hset', KEYS[2], ARGV[1], last)
redis.call('hset', KEYS[3], 'seq', string.format('%.0f', seq), 't', stamp)
local cutoff = tonumber(ARGV[3])
if first_new and cutoff > 0 then
  local oldest = redis.call('xrange', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if oldest and time_of(oldest) < tonumber(ARGV[4]) then
    local low, high = seq_of(oldest[1]), first_new
    while low < high do
      local middle = math.floor((low + high) / 2)
      if time_of(entry_at(middle)) < cutoff then low = middle + 1 else high = middle end
    end
    redis.call('xtrim', KEYS[1], 'MINID', id_of(low))
  end
end
return first_new and (seq - first_new + 1) or 0`,
  parseCommand(parser: CommandParser, keys: readonly [string, string, string], args: readonly string[]) {
    parser.pushKeys([...keys]);
    parser.push(...args);
  },
  transformReply: (reply: unknown) => Number(reply),
});

/**
 * The last sequence appended before a time, by binary search over the
 * consecutive ids. KEYS: stream. ARGV: epoch ms. Replies the sequence, 0
 * before the first, or -1 when the oldest kept entry is at or after the time
 * and older ones were dropped.
 */
export const TRAIL_SEQUENCE_BEFORE = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${HELPERS}
local ms = tonumber(ARGV[1])
local oldest = redis.call('xrange', KEYS[1], '-', '+', 'COUNT', 1)[1]
if not oldest then return 0 end
local low = seq_of(oldest[1])
if time_of(oldest) >= ms then
  if low > 1 then return -1 end
  return 0
end
local high = seq_of(redis.call('xrevrange', KEYS[1], '+', '-', 'COUNT', 1)[1][1])
while low < high do
  local middle = math.floor((low + high + 1) / 2)
  if time_of(entry_at(middle)) < ms then low = middle else high = middle - 1 end
end
return low`,
  parseCommand(parser: CommandParser, key: string, ms: number) {
    parser.pushKey(key);
    parser.push(String(ms));
  },
  transformReply: (reply: unknown) => Number(reply),
});

export const TRAIL_SCRIPTS = { trailAppend: APPEND_TRAIL_EVENTS, trailSequenceBefore: TRAIL_SEQUENCE_BEFORE };
