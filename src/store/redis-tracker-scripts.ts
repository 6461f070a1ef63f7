/**
 * The tracker store's writes as Lua scripts, each atomic on the Redis server
 * (loaded with `defineScript`: EVALSHA, EVAL again after SCRIPT FLUSH).
 *
 * Replies are a kind first, then, where useful, the stored hash as a flat
 * [field, value, ...] list.
 *
 * A write that matters to protection (protection-change-log.ts) also appends
 * `o` (order_no), `v` (the version written) and `n` (the entry's number, from
 * the log's counter) to the protection change log, a stream capped with
 * MAXLEN ~, in the same script: the change and its entry are one.
 */
import { defineScript, type CommandParser } from "redis";
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { TRACKER_TRANSITIONS } from "../domain/tracker-transitions.js";

/**
 * The legal status changes as a Lua condition on `from` and `to`, built into
 * the script text once from the domain's transition table (rather than sent
 * as an argument with every call).
 */
const LEGAL_EDGE_LUA = TRACKER_TRANSITIONS.map(
  (edge) => `(from == '${TrackerStatus[edge.from]}' and to == '${TrackerStatus[edge.to]}')`,
).join(" or ");

/** Lua helpers: the value of a hash field among the ARGV from `first` on, and the log append. */
const CHANGE_LOG_LUA = `
local function field_of(first, name)
  for i = first, #ARGV - 1, 2 do
    if ARGV[i] == name then return ARGV[i + 1] end
  end
  return nil
end
local function log_change(stream, counter, maxlen, order_no, version)
  local seq = redis.call('incr', counter)
  redis.call('xadd', stream, 'MAXLEN', '~', maxlen, '*', 'o', order_no, 'v', version, 'n', seq)
end`;

/**
 * Creates the tracker hash and adds it to the listing indexes, unless the
 * hash exists; a tracker with an exit plan is logged as a change.
 * KEYS: hash, all-index, status-index, segment-index, paper-index, change
 * log stream, change log counter. ARGV: order_no, the log's max length, then
 * the hash fields.
 * Replies {"created"} or {"exists", ...stored fields}.
 */
export const REGISTER_TRACKER = defineScript({
  NUMBER_OF_KEYS: 7,
  SCRIPT: `${CHANGE_LOG_LUA}
if redis.call('exists', KEYS[1]) == 1 then
  local stored = redis.call('hgetall', KEYS[1])
  table.insert(stored, 1, 'exists')
  return stored
end
redis.call('hset', KEYS[1], unpack(ARGV, 3))
for i = 2, 5 do redis.call('zadd', KEYS[i], 0, ARGV[1]) end
if field_of(3, 'exitPlan') then log_change(KEYS[6], KEYS[7], ARGV[2], ARGV[1], field_of(3, 'version')) end
return {'created'}`,
  parseCommand(parser: CommandParser, keys: readonly string[], args: readonly string[], fields: readonly string[]) {
    parser.pushKeys([...keys]);
    parser.push(...args, ...fields);
  },
  transformReply: asStrings,
});

/**
 * Compare-and-set of a whole tracker. Checks, in this order: the hash exists;
 * the writer's fencing token is not older than the stored one; the stored
 * version is the expected one; the status change is one of the legal edges
 * (the transition table of the domain, built into the script); the
 * exited quantity is within bounds (checked by the caller, passed as a flag).
 * Then replaces the hash, moves the tracker
 * between status indexes and records the correlation id; logs the write as
 * a change when the plan changed or the tracker entered or left ACTIVE.
 *
 * KEYS: hash, correlation-id hash, change log stream, change log counter.
 * ARGV: order_no, expected version, fencing token, next status, status-index
 * key prefix, quantity-ok ("1"/"0"), correlation id, the log's max length,
 * then the hash fields (version = expected + 1).
 * Replies {"written"}, {"not-found"}, {"fenced"|"version-mismatch", ...stored},
 * {"illegal-transition", from} or {"invalid-quantity"}.
 */
export const COMPARE_AND_SET_TRACKER = defineScript({
  NUMBER_OF_KEYS: 4,
  SCRIPT: `${CHANGE_LOG_LUA}
local stored = redis.call('hmget', KEYS[1], 'version', 'fencingToken', 'status', 'exitPlan')
if not stored[1] then return {'not-found'} end
local function refuse(kind)
  local all = redis.call('hgetall', KEYS[1])
  table.insert(all, 1, kind)
  return all
end
if tonumber(ARGV[3]) < tonumber(stored[2]) then return refuse('fenced') end
if tonumber(stored[1]) ~= tonumber(ARGV[2]) then return refuse('version-mismatch') end
local from, to = stored[3], ARGV[4]
if from ~= to and not (${LEGAL_EDGE_LUA}) then
  return {'illegal-transition', from}
end
if ARGV[6] ~= '1' then return {'invalid-quantity'} end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], unpack(ARGV, 9))
if from ~= to then
  redis.call('zrem', ARGV[5] .. from, ARGV[1])
  redis.call('zadd', ARGV[5] .. to, 0, ARGV[1])
end
if ARGV[7] ~= '' then redis.call('hset', KEYS[2], ARGV[7], ARGV[1]) end
local plan_changed = (stored[4] or '') ~= (field_of(9, 'exitPlan') or '')
if plan_changed or (from ~= to and (from == 'ACTIVE' or to == 'ACTIVE')) then
  log_change(KEYS[3], KEYS[4], ARGV[8], ARGV[1], string.format('%.0f', tonumber(ARGV[2]) + 1))
end
return {'written'}`,
  parseCommand(parser: CommandParser, keys: readonly [string, string, string, string], args: readonly string[], fields: readonly string[]) {
    parser.pushKeys([...keys]);
    parser.push(...args, ...fields);
  },
  transformReply: asStrings,
});

export const TRACKER_SCRIPTS = { trackerRegister: REGISTER_TRACKER, trackerCompareAndSet: COMPARE_AND_SET_TRACKER };

function asStrings(reply: unknown): string[] {
  return (reply as unknown[]).map(String);
}
