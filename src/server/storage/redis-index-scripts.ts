/**
 * The Lua scripts of RedisFileIndex: each decision about a name (claim, owner-only replacement,
 * removal, rename, expiry) runs as ONE script, which Redis runs atomically, so servers sharing
 * the Redis agree without locks. They are the rules of index-rules.ts, in Lua.
 *
 * KEYS of the file scripts: 1 files (hash name -> record JSON without the name), 2 names (sorted
 * set, every score 0: ZRANGEBYLEX pages in byte order, which is code point order), 3 keys (hash
 * nameKey -> name: the case and Unicode-form clashes), 4 owners (hash owner -> count; "" is the
 * operator), 5 expiry (sorted set name -> expiry ms), 6 objects (hash object key -> name: which
 * objects files still need, for the orphan sweep), then 7 partials (hash id -> JSON), 8 the
 * partials' generations (hash id -> n), 9 the partials' update times (sorted set id -> ms), 10
 * orphans (sorted set object key -> ms it was handed out as an orphan: never committed after).
 * ARGV[1] is always the caller's clock, `now`, in ms.
 */

const PRELUDE = `
local now = tonumber(ARGV[1])
local function live(json)
  if not json then return nil end
  local r = cjson.decode(json)
  if r.expires ~= nil and r.expires ~= cjson.null and r.expires <= now then return nil end
  return r
end
local function ownerOf(r)
  if r.owner == cjson.null then return '' end
  return r.owner
end
local function drop(name, json, key)
  local r = cjson.decode(json)
  redis.call('HDEL', KEYS[1], name)
  redis.call('ZREM', KEYS[2], name)
  redis.call('ZREM', KEYS[5], name)
  redis.call('HINCRBY', KEYS[4], ownerOf(r), -1)
  if redis.call('HGET', KEYS[3], key) == name then redis.call('HDEL', KEYS[3], key) end
  if redis.call('HGET', KEYS[6], r.object) == name then redis.call('HDEL', KEYS[6], r.object) end
end
local function put(name, json, key, owner, expires)
  redis.call('HSET', KEYS[1], name, json)
  redis.call('ZADD', KEYS[2], 0, name)
  redis.call('HSET', KEYS[3], key, name)
  redis.call('HINCRBY', KEYS[4], owner, 1)
  redis.call('HSET', KEYS[6], cjson.decode(json).object, name)
  if expires then redis.call('ZADD', KEYS[5], expires, name) else redis.call('ZREM', KEYS[5], name) end
end
-- The replacement and clash rules of a store of name (key) by owner; nil when allowed.
local function refusal(name, key, owner)
  local cur = redis.call('HGET', KEYS[1], name)
  local c = live(cur)
  if c and ownerOf(c) ~= owner then return {'E_NOT_OWNER', cur} end
  if not c then
    local other = redis.call('HGET', KEYS[3], key)
    if other and other ~= name and live(redis.call('HGET', KEYS[1], other)) then
      return {'E_NAME_CLASH', other}
    end
  end
  return nil
end
`;

/** ARGV: now, name, key, owner. */
export const CHECK = `${PRELUDE}
return refusal(ARGV[2], ARGV[3], ARGV[4]) or {'OK'}
`;

/**
 * ARGV: now, name, key, owner, record JSON, expires ('' for none), partial id ('' for none),
 * object key. An object handed out as an orphan is never committed: its deletion is under way.
 */
export const COMMIT = `${PRELUDE}
if redis.call('ZSCORE', KEYS[10], ARGV[8]) then return {'E_ORPHANED'} end
local refused = refusal(ARGV[2], ARGV[3], ARGV[4])
if refused then return refused end
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if cur then drop(ARGV[2], cur, ARGV[3]) end
local expires = nil
if ARGV[6] ~= '' then expires = ARGV[6] end
put(ARGV[2], ARGV[5], ARGV[3], ARGV[4], expires)
if ARGV[7] ~= '' then
  redis.call('HDEL', KEYS[7], ARGV[7])
  redis.call('HDEL', KEYS[8], ARGV[7])
  redis.call('ZREM', KEYS[9], ARGV[7])
end
return {'OK', cur or ''}
`;

/** ARGV: now, name, key, owner ('' for the operator, who may remove any file). */
export const REMOVE = `${PRELUDE}
local cur = redis.call('HGET', KEYS[1], ARGV[2])
local c = live(cur)
if not c then return {'E_NOT_FOUND'} end
if ARGV[4] ~= '' and ownerOf(c) ~= ARGV[4] then return {'E_NOT_OWNER', cur} end
drop(ARGV[2], cur, ARGV[3])
return {'OK', cur}
`;

/** ARGV: now, from, from's key, to, to's key, owner. */
export const RENAME = `${PRELUDE}
local cur = redis.call('HGET', KEYS[1], ARGV[2])
local c = live(cur)
if not c then return {'E_NOT_FOUND'} end
if ownerOf(c) ~= ARGV[6] then return {'E_NOT_OWNER', cur, 'rename'} end
local tcur = redis.call('HGET', KEYS[1], ARGV[4])
local t = live(tcur)
if t then
  if ownerOf(t) == ARGV[6] then return {'E_NAME_TAKEN'} end
  return {'E_NOT_OWNER', tcur, 'replace'}
end
local other = redis.call('HGET', KEYS[3], ARGV[5])
if other and other ~= ARGV[2] and live(redis.call('HGET', KEYS[1], other)) then
  return {'E_NAME_CLASH', other}
end
local score = redis.call('ZSCORE', KEYS[5], ARGV[2])
if tcur then drop(ARGV[4], tcur, ARGV[5]) end
drop(ARGV[2], cur, ARGV[3])
put(ARGV[4], cur, ARGV[5], ARGV[6], score or nil)
return {'OK', cur, tcur or ''}
`;

/** ARGV: now, name, key. The record removed, or nil when it is gone or not due. */
export const EXPIRE_ONE = `${PRELUDE}
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if cur and not live(cur) then
  drop(ARGV[2], cur, ARGV[3])
  return cur
end
return false
`;

/** KEYS: partials, generations, times. ARGV: now, id. {JSON, new generation}, or nil. */
export const TAKE_PARTIAL = `
local json = redis.call('HGET', KEYS[1], ARGV[2])
if not json then return false end
local generation = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
return {json, generation}
`;

/** KEYS: partials, generations, times. ARGV: now, id, generation, JSON. 1 if saved. */
export const SAVE_PARTIAL = `
local current = redis.call('HGET', KEYS[2], ARGV[2])
if (not current and ARGV[3] == '0') or current == ARGV[3] then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS: partials, generations, times. ARGV: id, generation. 1 if dropped. */
export const DROP_PARTIAL = `
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
return 0
`;

/**
 * KEYS: objects, partials, orphans, the objects map's ready mark. ARGV: now, retryBefore,
 * forgetBefore, object keys. The keys no file and no partial upload names, marked as orphans
 * (those another server marked at or after retryBefore are its to delete). Nothing until the
 * objects map is complete (MAP_FILES), since a missing entry would read as an orphan.
 */
export const CLAIM_ORPHANS = `
if redis.call('EXISTS', KEYS[4]) == 0 then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[3])
local pending = nil
local claimed = {}
for i = 4, #ARGV do
  local o = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], o) == 0 then
    if not pending then
      pending = {}
      for _, json in ipairs(redis.call('HVALS', KEYS[2])) do pending[cjson.decode(json).object] = true end
    end
    local mark = redis.call('ZSCORE', KEYS[3], o)
    if not pending[o] and (not mark or tonumber(mark) < tonumber(ARGV[2])) then
      redis.call('ZADD', KEYS[3], ARGV[1], o)
      claimed[#claimed + 1] = o
    end
  end
end
return claimed
`;

/**
 * KEYS: files, objects. ARGV: names. Enters the objects of those still stored in the objects map:
 * builds it, one HSCAN page at a time, for an index written before the map existed.
 */
export const MAP_FILES = `
for i = 1, #ARGV do
  local json = redis.call('HGET', KEYS[1], ARGV[i])
  if json then redis.call('HSET', KEYS[2], cjson.decode(json).object, ARGV[i]) end
end
return 1
`;
