/**
 * The Lua scripts of the Redis webhook store (`redis_webhook_store.ts`):
 * each operation that reads and writes is one script, atomic. The gateway
 * runs them as project scripts (`src/gateway/script_policy.ts`).
 *
 * @module
 */

/** KEYS: delivery, due, target list. ARGV: json, next_at, id, created score, kept per target. */
export const WEBHOOK_ENQUEUE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
redis.call('PERSIST', KEYS[3])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -1 - tonumber(ARGV[5]))
return 1`;

/**
 * KEYS: due. ARGV: now, lease end, limit, consumer, delivery key prefix.
 * Returns the earliest due time left ('' when none), then each claimed delivery.
 */
export const WEBHOOK_CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('GET', ARGV[5] .. id)
  if not raw then
    redis.call('ZREM', KEYS[1], id)
  else
    local d = cjson.decode(raw)
    d['claimed_by'] = ARGV[4]
    d['next_attempt_at'] = tonumber(ARGV[2])
    local json = cjson.encode(d)
    redis.call('SET', ARGV[5] .. id, json)
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, json)
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
table.insert(out, 1, first[2] or '')
return out`;

/**
 * KEYS: delivery, due, target list. ARGV: json after the attempt, consumer,
 * id, pending (1/0), next_at, ttl. A settled delivery, and its target's list
 * if nothing more is added to it, expire after the ttl.
 */
export const WEBHOOK_FINISH = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local d = cjson.decode(raw)
if d['state'] ~= 'pending' or d['claimed_by'] ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
else
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 1`;

/** KEYS: delivery, due. ARGV: now, id. Returns {1|0, json or false}. */
export const WEBHOOK_REPLAY = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
local d = cjson.decode(raw)
if d['state'] == 'pending' then return {0, raw} end
d['state'] = 'pending'
d['manual'] = true
d['retries'] = 0
d['next_attempt_at'] = tonumber(ARGV[1])
d['claimed_by'] = cjson.null
local json = cjson.encode(d)
redis.call('SET', KEYS[1], json)
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return {1, json}`;

/** KEYS: cursor. ARGV: seq (\`<ms>-<n>\`). Moves it forward only. */
export const WEBHOOK_ADVANCE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local cm, cs = string.match(cur, '^(%d+)-(%d+)$')
  local nm, ns = string.match(ARGV[1], '^(%d+)-(%d+)$')
  cm, cs, nm, ns = tonumber(cm), tonumber(cs), tonumber(nm), tonumber(ns)
  if nm < cm or (nm == cm and ns <= cs) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

/**
 * KEYS: subscriptions hash. ARGV: id, disabled at, reason. Disables the
 * subscription only if it is still there (a delete in between stays). 1 or 0.
 */
export const WEBHOOK_DISABLE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local s = cjson.decode(raw)
s['disabled_at'] = ARGV[2]
s['disabled_reason'] = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(s))
return 1`;

/** Every script of the webhook store. */
export const WEBHOOK_SCRIPTS: readonly string[] = [
  WEBHOOK_DISABLE,
  WEBHOOK_ENQUEUE,
  WEBHOOK_CLAIM,
  WEBHOOK_FINISH,
  WEBHOOK_REPLAY,
  WEBHOOK_ADVANCE,
];
