"""The Lua scripts of :mod:`rooms.trade.redis_store`: each multi-key booking write is one script.

Redis runs a script atomically, so "is the slot free? then hold it" cannot interleave with another
node's identical check: of twenty buyers racing for one slot, exactly one script finds it free.
Calendars (a host's slots, a buyer's held slots) are sorted sets scored by start (ms) whose
members are ``<end ms>:<id>``, so an overlap test reads only the entries that start within the
longest slot length before the new one.
"""

from __future__ import annotations

# busy(key, start, end, maxlen, own) -> the id of an entry overlapping [start, end), other than own
_BUSY = """
local function busy(key, s, e, maxlen, own)
  local near = redis.call('ZRANGEBYSCORE', key, s - maxlen, '(' .. e)
  for _, m in ipairs(near) do
    local mend, mid = string.match(m, '^(%d+):(.+)$')
    if tonumber(mend) > s and mid ~= own then return mid end
  end
  return nil
end
"""

# KEYS: slots hash, host calendar, exhibitor slot index. ARGV: maxlen, then (id, json, start, end)*
ADD_SLOTS = _BUSY + """
local maxlen = tonumber(ARGV[1])
for i = 2, #ARGV, 4 do
  local other = busy(KEYS[2], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), maxlen, ARGV[i])
  if other then return {'slot_overlap', other} end
end
for i = 2, #ARGV, 4 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i + 3] .. ':' .. ARGV[i])
  redis.call('ZADD', KEYS[3], ARGV[i + 2], ARGV[i])
end
return {'ok'}
"""

# KEYS: slots hash, host calendar, exhibitor slot index, hold. ARGV: slot id, calendar member.
REMOVE_SLOT = """
local holder = redis.call('GET', KEYS[4])
if holder then return {'slot_held', holder} end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return {'missing'} end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return {'ok'}
"""

# KEYS: hold, requests hash, buyer's open set, buyer calendar, exhibitor's requests, buyer's
#       requests, active set, slots hash.
# ARGV: id, json, quota, start ms, end ms, slot id, maxlen, calendar member, exhibitor,
#       quota per exhibitor (0: none). The open set holds at most ``quota`` ids, so counting
#       the buyer's open requests at one exhibitor reads a handful of rows.
CREATE_REQUEST = _BUSY + """
if redis.call('HEXISTS', KEYS[8], ARGV[6]) == 0 then return {'no_such_slot', ARGV[6]} end
local holder = redis.call('GET', KEYS[1])
if holder then return {'slot_taken', holder} end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {'quota_reached', ''} end
local per_exhibitor = tonumber(ARGV[10])
if per_exhibitor > 0 then
  local here = 0
  for _, rid in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local row = redis.call('HGET', KEYS[2], rid)
    if row and cjson.decode(row)['exhibitor'] == ARGV[9] then here = here + 1 end
  end
  if here >= per_exhibitor then return {'exhibitor_quota_reached', ''} end
end
local other = busy(KEYS[4], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7]), ARGV[1])
if other then return {'buyer_busy', other} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[8])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[1])
redis.call('SADD', KEYS[7], ARGV[1])
return {'ok', ''}
"""

# KEYS: requests hash, hold to release, hold to claim, buyer's open set, buyer calendar,
#       active set, slots hash.
# ARGV: 1 id, 2 expected version, 3 json, 4 release 1/0, 5 claim 1/0, 6 awaiting 1/0,
#       7 old calendar member or '', 8 new calendar member or '', 9 new start ms, 10 new end ms,
#       11 maxlen, 12 active 1/0, 13 slot id to claim.
UPDATE_REQUEST = _BUSY + """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'no_such_request', ARGV[1]} end
if tonumber(cjson.decode(cur)['version']) ~= tonumber(ARGV[2]) then
  return {'request_changed', ARGV[1]}
end
if ARGV[5] == '1' then
  if redis.call('HEXISTS', KEYS[7], ARGV[13]) == 0 then return {'no_such_slot', ARGV[13]} end
  local holder = redis.call('GET', KEYS[3])
  if holder and holder ~= ARGV[1] then return {'slot_taken', holder} end
end
if ARGV[8] ~= '' and ARGV[8] ~= ARGV[7] then
  local other = busy(KEYS[5], tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), ARGV[1])
  if other then return {'buyer_busy', other} end
end
if ARGV[4] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[5] == '1' then redis.call('SET', KEYS[3], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local open_op = 'SREM'
if ARGV[6] == '1' then open_op = 'SADD' end
redis.call(open_op, KEYS[4], ARGV[1])
if ARGV[7] ~= '' then redis.call('ZREM', KEYS[5], ARGV[7]) end
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[5], ARGV[9], ARGV[8]) end
local active_op = 'SREM'
if ARGV[12] == '1' then active_op = 'SADD' end
redis.call(active_op, KEYS[6], ARGV[1])
return {'ok', ''}
"""

# KEYS: the counter. ARGV: limit, window ms. Returns 0 (counted) or the ms left in the window.
TAKE = """
local uses = redis.call('INCR', KEYS[1])
if uses == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if uses <= tonumber(ARGV[1]) then return 0 end
redis.call('DECR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return left
"""

# KEYS: a person's feed. ARGV: notice json, cap.
PUSH_NOTICE = """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
"""
