/**
 * The Lua scripts of the Redis session store. Each runs atomically on the
 * store's Redis, so a heartbeat racing a lapse claim is decided there: the
 * claim marks the session LAPSED and a later heartbeat is refused, or the
 * heartbeat moved the lease and the claim finds nothing due.
 *
 * A session is the hash `{prefix}session:{id}`; `{prefix}sessions:due` is a
 * sorted set of session ids scored by the epoch ms at which each is next
 * claimable: its lease's end while OPEN, the retry time of an unsettled
 * lapse while LAPSED. Epoch ms are written with %.0f: Lua 5.1 would print
 * a number that large in exponent notation.
 *
 * A session that is over (closed, or lapsed and its action settled) keeps
 * its hash and trackers set for a retention time (PEXPIRE), so GetSession
 * and a strategy's retry still find it for a while, and then they go.
 */

const EXTEND = `
local function extend(hash, due, id, now)
  local s = redis.call('HMGET', hash, 'status', 'expiresAt', 'ttlMs')
  if s[1] ~= 'OPEN' or tonumber(s[2]) <= now then
    return {'ended', unpack(redis.call('HGETALL', hash))}
  end
  local expires = string.format('%.0f', now + tonumber(s[3]))
  redis.call('HSET', hash, 'lastHeartbeatAt', string.format('%.0f', now), 'expiresAt', expires)
  redis.call('ZADD', due, expires, id)
  return {'ok', unpack(redis.call('HGETALL', hash))}
end
`;

/** KEYS: hash, due. ARGV: id, ttlMs, lapseAction, now, fallback plan JSON ('' for none). Replies created|ok|ended|different, then the hash. */
export const OPEN_SESSION = `${EXTEND}
local now = tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then
  local nowText = string.format('%.0f', now)
  local expires = string.format('%.0f', now + tonumber(ARGV[2]))
  redis.call('HSET', KEYS[1], 'sessionId', ARGV[1], 'ttlMs', ARGV[2], 'lapseAction', ARGV[3], 'status', 'OPEN',
    'expiresAt', expires, 'openedAt', nowText, 'lastHeartbeatAt', nowText)
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'fallbackPlan', ARGV[5]) end
  redis.call('ZADD', KEYS[2], expires, ARGV[1])
  return {'created', unpack(redis.call('HGETALL', KEYS[1]))}
end
if redis.call('HGET', KEYS[1], 'ttlMs') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'lapseAction') ~= ARGV[3]
  or (redis.call('HGET', KEYS[1], 'fallbackPlan') or '') ~= ARGV[5] then
  return {'different'}
end
return extend(KEYS[1], KEYS[2], ARGV[1], now)
`;

/** KEYS: hash, due. ARGV: id, now. Replies missing|ok|ended, then the hash. */
export const HEARTBEAT = `${EXTEND}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
return extend(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
`;

/** KEYS: hash, due, trackers set. ARGV: id, now, retention ms. Replies missing|ok|ended, then the hash. */
export const CLOSE_SESSION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local s = redis.call('HMGET', KEYS[1], 'status', 'expiresAt')
local now = tonumber(ARGV[2])
if s[1] == 'OPEN' and tonumber(s[2]) > now then
  redis.call('HSET', KEYS[1], 'status', 'CLOSED', 'endedAt', string.format('%.0f', now))
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
elseif s[1] ~= 'CLOSED' then
  return {'ended', unpack(redis.call('HGETALL', KEYS[1]))}
end
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

/** KEYS: hash, trackers set. ARGV: order_no, now. Replies missing|ok|ended, then the hash. */
export const ATTACH_TRACKER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local s = redis.call('HMGET', KEYS[1], 'status', 'expiresAt')
if s[1] ~= 'OPEN' or tonumber(s[2]) <= tonumber(ARGV[2]) then
  return {'ended', unpack(redis.call('HGETALL', KEYS[1]))}
end
redis.call('SADD', KEYS[2], ARGV[1])
return {'ok'}
`;

/**
 * KEYS: due. ARGV: now, retryAfterMs, limit, session hash prefix. Replies
 * [id, first (1|0), ...] for every session claimed: an OPEN one past its lease
 * becomes LAPSED (ended at its lease's end); each claimed id is rescored to
 * now + retryAfterMs. A CLOSED id left in the set is dropped.
 */
export const CLAIM_LAPSED = `
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local retry = string.format('%.0f', now + tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local hash = ARGV[4] .. id
  local s = redis.call('HMGET', hash, 'status', 'expiresAt')
  if s[1] == 'OPEN' then
    redis.call('HSET', hash, 'status', 'LAPSED', 'endedAt', s[2])
    redis.call('ZADD', KEYS[1], retry, id)
    out[#out + 1] = id
    out[#out + 1] = '1'
  elseif s[1] == 'LAPSED' then
    redis.call('ZADD', KEYS[1], retry, id)
    out[#out + 1] = id
    out[#out + 1] = '0'
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`;

/**
 * KEYS: hash, due, trackers set. ARGV: id, retention ms. The lapse is
 * handled: the session is claimed no more, and a LAPSED one is kept for the
 * retention time. Replies the number of keys given an expiry.
 */
export const SETTLE_SESSION = `
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'status') ~= 'LAPSED' then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2]) + redis.call('PEXPIRE', KEYS[3], ARGV[2])
`;
