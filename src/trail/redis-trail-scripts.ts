/**
 * The trail's append as one Lua script, atomic on the Redis server.
 *
 * Each process numbers its own events 1, 2, 3, … and the script keeps, per
 * process, the last number it appended (a hash beside the stream): an event
 * at or below it is already in the stream and is skipped. A batch whose reply
 * was lost is therefore sent again without appending anything twice.
 */
import { defineScript, type CommandParser } from "redis";

/**
 * Appends a batch of events, each with XADD `*` (Redis picks the id: the
 * sequence), trimmed to MAXLEN ~ and, when given, MINID ~.
 *
 * KEYS: stream, last-appended hash. ARGV: process, max length, oldest id to
 * keep ("0": no age bound), field count F, the F field names, then per
 * event its number and its F values. Replies the number of events appended.
 */
export const APPEND_TRAIL_EVENTS = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `
local last = tonumber(redis.call('hget', KEYS[2], ARGV[1]) or '0')
local f = tonumber(ARGV[4])
local appended = 0
local i = 5 + f
while i <= #ARGV do
  local number = tonumber(ARGV[i])
  if number > last then
    local entry = {'process', ARGV[1], 'local', ARGV[i]}
    for j = 1, f do
      entry[#entry + 1] = ARGV[4 + j]
      entry[#entry + 1] = ARGV[i + j]
    end
    redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
    last = number
    appended = appended + 1
  end
  i = i + 1 + f
end
redis.call('hset', KEYS[2], ARGV[1], last)
if ARGV[3] ~= '0' then redis.call('xtrim', KEYS[1], 'MINID', '~', ARGV[3]) end
return appended`,
  parseCommand(parser: CommandParser, keys: readonly [string, string], args: readonly string[]) {
    parser.pushKeys([...keys]);
    parser.push(...args);
  },
  transformReply: (reply: unknown) => Number(reply),
});

export const TRAIL_SCRIPTS = { trailAppend: APPEND_TRAIL_EVENTS };
