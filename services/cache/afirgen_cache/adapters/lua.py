"""Lua scripts of the Redis store: each operation is one round trip and atomic.

Conventions: KEYS[1] is the namespace's version key; entry and lock keys are
built inside the script from prefixes (``<prefix><version>:<key>``) because
they depend on the version read in the same script. Such undeclared keys are
fine on a single Redis or a Sentinel group; on Redis Cluster the namespace
would need a hash tag (``afirgen:{ns}:...``) so that its keys share a slot.

Times come from Redis's own clock (``TIME``, microseconds) so that every
replica of the service compares leases against one clock. A missing version
key (new namespace, Redis restart, or the key evicted under ``allkeys-lru``)
is re-created from that clock, never reset to an old number: entries of a
version used before can never become visible again. Numbers are kept below
2^53 and printed with ``%.0f`` because Lua 5.1 numbers are doubles.

DELETE and INVALIDATE publish what they made stale on the invalidation
channel (:mod:`afirgen_cache.domain.invalidations`) in the same atomic step,
so a subscriber learns of a write before the writer can answer its client.
"""

from __future__ import annotations

_PRELUDE = """
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function fmt(n)
  return string.format('%.0f', n)
end
local function version(vkey, now)
  local v = redis.call('GET', vkey)
  if v then return tonumber(v) end
  -- one below now: a lease issued at this instant is already younger
  redis.call('SET', vkey, fmt(now - 1))
  return now - 1
end
"""

READ = (
    _PRELUDE
    + """
-- ARGV: data prefix, lock prefix, lock ms (0: no lock), keys...
-- returns: version, now, then per key: value|nil, pttl, locked
local now = now_us()
local vs = fmt(version(KEYS[1], now))
local lock_ms = tonumber(ARGV[3])
local out = {vs, fmt(now)}
for i = 4, #ARGV do
  local dk = ARGV[1] .. vs .. ':' .. ARGV[i]
  local val = redis.call('GET', dk)
  local ttl = -2
  local locked = 0
  if val and string.sub(val, 1, 1) == 'D' then
    ttl = redis.call('PTTL', dk)
  else
    val = false
    if lock_ms > 0 and redis.call('SET', ARGV[2] .. vs .. ':' .. ARGV[i], '1', 'NX', 'PX', lock_ms) then
      locked = 1
    end
  end
  out[#out + 1] = val
  out[#out + 1] = ttl
  out[#out + 1] = locked
end
return out
"""
)

WRITE = (
    _PRELUDE
    + """
-- ARGV: data prefix, lock prefix, lease (0: none), lease ttl us, then key, ttl ms, value triples
-- returns: per entry 1 (stored) or 0 (stale lease)
local now = now_us()
local v = version(KEYS[1], now)
local vs = fmt(v)
local lease = tonumber(ARGV[3])
local fresh = true
if lease > 0 and (lease <= v or now - lease > tonumber(ARGV[4])) then
  fresh = false
end
local out = {}
for i = 5, #ARGV, 3 do
  local dk = ARGV[1] .. vs .. ':' .. ARGV[i]
  local ok = fresh
  if ok and lease > 0 then
    local cur = redis.call('GET', dk)
    if cur and string.sub(cur, 1, 1) == 'T' and tonumber(string.sub(cur, 2)) >= lease then
      ok = false
    end
  end
  if ok then
    redis.call('SET', dk, ARGV[i + 2], 'PX', ARGV[i + 1])
  end
  redis.call('DEL', ARGV[2] .. vs .. ':' .. ARGV[i])
  out[#out + 1] = ok and 1 or 0
end
return out
"""
)

DELETE = (
    _PRELUDE
    + """
-- ARGV: data prefix, lock prefix, tombstone ms, channel, message, keys...; returns how many entries existed.
-- Fill locks go too: whoever fills next must read after this delete.
local now = now_us()
local vs = fmt(version(KEYS[1], now))
local tomb = 'T' .. fmt(now)
local n = 0
for i = 6, #ARGV do
  local old = redis.call('SET', ARGV[1] .. vs .. ':' .. ARGV[i], tomb, 'PX', ARGV[3], 'GET')
  if old and string.sub(old, 1, 1) == 'D' then
    n = n + 1
  end
  redis.call('DEL', ARGV[2] .. vs .. ':' .. ARGV[i])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return n
"""
)

INVALIDATE = (
    _PRELUDE
    + """
-- ARGV: channel, message; returns the new version: now, or one above the old one if that is not below now
local now = now_us()
local old = redis.call('GET', KEYS[1])
local nv = now
if old and tonumber(old) >= now then
  nv = tonumber(old) + 1
end
local s = fmt(nv)
redis.call('SET', KEYS[1], s)
redis.call('PUBLISH', ARGV[1], ARGV[2])
return s
"""
)
