"""The Lua scripts of :mod:`rooms.redis_store`: each multi-key change is one atomic script.

Presence judges expiry by the Redis server's own clock (``TIME``), so nodes with skewed clocks
agree on who is present. Scripts are sent with EVALSHA and reloaded by redis-py after a restart.
"""

from __future__ import annotations

_NOW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
"""
# Presence KEYS: people hash, seen zset (everyone), counted zset (the lobby's figure: not hidden,
# not waiting). Both zsets map identity -> deadline in ms; the keys themselves expire a second
# after the longest deadline, so an abandoned room's presence cleans itself up.
_KEEP_KEYS = """
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl + 1000 then redis.call('PEXPIRE', k, ttl + 1000) end
end
"""

# ARGV: identity, participant JSON, ttl ms, counted (1/0).
PUT_PARTICIPANT = _NOW + """
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
""" + _KEEP_KEYS + """
return 1
"""

# ARGV: identity, ttl ms. -> 1 if still present (and extended), else 0.
HEARTBEAT = _NOW + """
local ttl = tonumber(ARGV[2])
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not exp or tonumber(exp) <= now then return 0 end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', now + ttl, ARGV[1])
""" + _KEEP_KEYS + """
return 1
"""

# ARGV: ttl ms, identity... -> the identities that were no longer present (not extended).
HEARTBEAT_MANY = _NOW + """
local ttl = tonumber(ARGV[1])
local gone = {}
for i = 2, #ARGV do
  local exp = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if not exp or tonumber(exp) <= now then
    gone[#gone + 1] = ARGV[i]
  else
    redis.call('ZADD', KEYS[2], now + ttl, ARGV[i])
    redis.call('ZADD', KEYS[3], 'XX', now + ttl, ARGV[i])
  end
end
""" + _KEEP_KEYS + """
return gone
"""

# -> the JSON of every live participant; expired ones are deleted on the way. HMGET goes in
# batches: Lua's unpack() is limited to a few thousand values and a broadcast has more viewers.
LIVE_PARTICIPANTS = _NOW + """
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, who in ipairs(dead) do redis.call('HDEL', KEYS[1], who) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local live = redis.call('ZRANGE', KEYS[2], 0, -1)
local out = {}
for i = 1, #live, 1000 do
  local rows = redis.call('HMGET', KEYS[1], unpack(live, i, math.min(i + 999, #live)))
  for _, row in ipairs(rows) do out[#out + 1] = row end
end
return out
"""

# ARGV: identity. -> the participant's JSON if live, else false.
GET_PARTICIPANT = _NOW + """
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not exp or tonumber(exp) <= now then return false end
return redis.call('HGET', KEYS[1], ARGV[1])
"""

# -> how many counted participants are live.
COUNT_PRESENT = _NOW + """
return redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf')
"""

# ARGV: identity[, node id]. -> 1 if it was present and live. With a node id, only a record
# that names that node goes (a dead node's sweep must not remove who rejoined elsewhere since).
REMOVE_PARTICIPANT = _NOW + """
if ARGV[2] then
  local row = redis.call('HGET', KEYS[1], ARGV[1])
  if not row or cjson.decode(row)['node_id'] ~= ARGV[2] then return 0 end
end
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if exp and tonumber(exp) > now then return 1 end
return 0
"""

# KEYS: lease. ARGV: holder, ttl ms. -> {holder now, its pttl} (claimed if free or ours).
CLAIM_LEASE = """
local cur = redis.call('GET', KEYS[1])
if not cur or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1], tonumber(ARGV[2])}
end
return {cur, redis.call('PTTL', KEYS[1])}
"""

# KEYS: lease. ARGV: holder, ttl ms. -> 1 if renewed.
RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease. ARGV: holder. -> 1 if released (someone else's lease is left alone).
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: tracks. ARGV: node id. -> the record removed if it named that node, else nil.
DROP_TRACKS = """
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur)['node'] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return cur
end
return false
"""

# KEYS: products hash, pinned zset. ARGV: product id, max pinned.
# -> -1 no such product, 0 limit reached, 1 pinned.
PIN_PRODUCT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], t[1] * 1000000 + t[2], ARGV[1])
return 1
"""

# KEYS: questions hash, votes zset, voters set. ARGV: question id, voter. -> votes, or -1.
VOTE_QUESTION = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
if redis.call('SADD', KEYS[3], ARGV[2]) == 1 then
  return tonumber(redis.call('ZINCRBY', KEYS[2], 1, ARGV[1]))
end
return tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or 0)
"""

# KEYS: question sequence, questions hash, open-questions set. ARGV: max open (-1: no cap),
# the question's JSON without its id (readers take the id from the hash field).
# -> the new id, or -1 when max open questions are open already.
ADD_QUESTION = """
local cap = tonumber(ARGV[1])
if cap >= 0 and redis.call('SCARD', KEYS[3]) >= cap then return -1 end
local id = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], id, ARGV[2])
redis.call('SADD', KEYS[3], id)
return id
"""

# KEYS: a list. ARGV: old value, new value. -> 1 if the old value was found and replaced, else 0.
SWAP_LIST_VALUE = """
local i = redis.call('LPOS', KEYS[1], ARGV[1])
if not i then return 0 end
redis.call('LSET', KEYS[1], i, ARGV[2])
return 1
"""

# KEYS: the room's pictures hash. ARGV: name, base64 data, cap. -> 1 stored (or already there),
# 0 the room holds cap pictures already.
PUT_PICTURE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# A journaled chat message (rooms/chat_journal.py), written once. KEYS: stream, marker (per
# journal id). ARGV: stream cap, marker ttl ms, then the entry's field/value pairs. The marker
# holds the position of the first write, so a retried flush returns it and writes nothing.
APPEND_JOURNALED = """
local done = redis.call('GET', KEYS[2])
if done then return done end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[2], id, 'PX', ARGV[2])
return id
"""

# A meeting's consent (issue 15 §3). KEYS: the room's consent hash. ARGV: identity, 1/0.
# Nothing is written unless a request is pending (its ``_ask`` field); returns the whole hash.
ANSWER_CONSENT = """
if redis.call('HEXISTS', KEYS[1], '_ask') == 0 then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
"""
