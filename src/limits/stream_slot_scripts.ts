/**
 * The Lua scripts of the Redis stream slots (`redis_stream_slots.ts`): one
 * sorted set per principal, member a slot id, score the slot's expiry in
 * Redis's own clock (`TIME`, so API instances with skewed clocks agree).
 * The REST gateway runs these by default (`src/gateway/script_policy.ts`).
 *
 * @module
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Takes a slot unless the principal holds `ARGV[2]` unexpired ones already.
 * KEYS[1] the set; ARGV[1] slot id, ARGV[2] the cap, ARGV[3] slot lifetime
 * in ms. Returns {1, slots held now} or {0, slots held, ms until the first
 * expires}.
 */
export const ACQUIRE_SLOT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, held, tonumber(first[2]) - now}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, held + 1}`;

/**
 * Extends a held slot by ARGV[2] ms; a slot that had expired is counted
 * again (its stream is still open). KEYS[1] the set; ARGV[1] slot id.
 * Returns 1 when the slot was still held, 0 when it had expired.
 */
export const RENEW_SLOT = `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if score and tonumber(score) > now then return 1 end
return 0`;

/** Every stream slot script. */
export const STREAM_SLOT_SCRIPTS: readonly string[] = [ACQUIRE_SLOT, RENEW_SLOT];
