/**
 * The Redis weather store's Lua script: a merge of temperatures checked
 * against the site's cap in the same step, so uploads racing each other
 * cannot pass it together (a count read first, then an `HSET`, could). The
 * REST gateway runs it by default with the broker's (`src/gateway/script_policy.ts`).
 *
 * @module
 */

// KEYS[1] the site's temperature hash. ARGV[1] the most hours the site may
// hold (0: no limit), then timestamp/value pairs. Counts the hours not
// stored yet (each once), refuses when the site would pass the cap, else
// merges; fields go in chunks (Lua's unpack has a stack limit). Returns
// {'ok', added} or {'too_many', stored, would have}.
export const MERGE_TEMPERATURES = `
local key = KEYS[1]
local max = tonumber(ARGV[1])
local stored = redis.call('HLEN', key)
if max > 0 then
  local new, seen = 0, {}
  for i = 2, #ARGV, 2000 do
    local fields = {}
    for j = i, math.min(i + 1998, #ARGV - 1), 2 do fields[#fields + 1] = ARGV[j] end
    local got = redis.call('HMGET', key, unpack(fields))
    for k = 1, #fields do
      if not got[k] and not seen[fields[k]] then
        seen[fields[k]] = true
        new = new + 1
      end
    end
  end
  if stored + new > max then return {'too_many', stored, stored + new} end
end
local added = 0
for i = 2, #ARGV, 2000 do
  added = added + redis.call('HSET', key, unpack(ARGV, i, math.min(i + 1999, #ARGV)))
end
return {'ok', added}`;

/** Every script of the weather store. */
export const WEATHER_SCRIPTS: readonly string[] = [MERGE_TEMPERATURES];
