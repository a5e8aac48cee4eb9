/**
 * The Redis broker's Lua scripts: each broker operation is one script, so
 * one command, atomic. The REST gateway runs these and no others by default
 * (`src/gateway/script_policy.ts`).
 *
 * @module
 */

const FINAL_CHECK = "s == 'SUCCESS' or s == 'FAILURE' or s == 'CANCELLED'";

export const CREATE = `
local holder = redis.call('GET', KEYS[1])
if holder then
  local s = redis.call('HGET', ARGV[8] .. 'task:' .. holder, 'status')
  if s and not (${FINAL_CHECK}) then return {0, holder} end
end
redis.call('SET', KEYS[1], ARGV[1])
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'task', ARGV[2])
local seq = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[10], '*', 'id', id, 'task', ARGV[2])
redis.call('HSET', KEYS[2], 'id', id, 'status', ARGV[3], 'task', ARGV[2])
redis.call('XADD', KEYS[4], '*', 'job', ARGV[4])
redis.call('PUBLISH', ARGV[6], '{"id":"' .. id .. '","seq":"' .. seq .. '","task":' .. ARGV[2] .. '}')
redis.call('PUBLISH', ARGV[7], 'queued')
redis.call('ZADD', KEYS[5], ARGV[9], ARGV[1])
return {1, id}`;

// A group's tasks, created in one step. KEYS[1] the index of tasks,
// KEYS[2] the log of every task's events, KEYS[3] the round of groups with
// queued jobs, KEYS[4] this group's queued jobs, KEYS[5] the group's record;
// then per task its active-task key, record and event log. ARGV[1] the key
// prefix, ARGV[2] events kept per task, ARGV[3] entries kept in the log of
// every event, ARGV[4] the queue's channel, ARGV[5] the group id, ARGV[6]
// the group's JSON up to its list of tasks, ARGV[7] its TTL, ARGV[8] how
// many tasks; then per task: id, JSON, status, job JSON, channel, creation
// time, member JSON. Returns {created: index, event id…}, {skipped: index,
// active task id…}; stores nothing when every meter is busy.
export const CREATE_GROUP = `
local created, skipped, members = {}, {}, {}
for i = 1, tonumber(ARGV[8]) do
  local k, a = 5 + 3 * (i - 1), 8 + 7 * (i - 1)
  local holder = redis.call('GET', KEYS[k + 1])
  local s = holder and redis.call('HGET', ARGV[1] .. 'task:' .. holder, 'status')
  if s and not (${FINAL_CHECK}) then
    skipped[#skipped + 1] = i
    skipped[#skipped + 1] = holder
  else
    redis.call('SET', KEYS[k + 1], ARGV[a + 1])
    local id = redis.call('XADD', KEYS[k + 3], 'MAXLEN', '~', ARGV[2], '*', 'task', ARGV[a + 2])
    local seq = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', id, 'task', ARGV[a + 2])
    redis.call('HSET', KEYS[k + 2], 'id', id, 'status', ARGV[a + 3], 'task', ARGV[a + 2])
    redis.call('RPUSH', KEYS[4], ARGV[a + 4])
    redis.call('PUBLISH', ARGV[a + 5], '{"id":"' .. id .. '","seq":"' .. seq .. '","task":' .. ARGV[a + 2] .. '}')
    redis.call('ZADD', KEYS[1], ARGV[a + 6], ARGV[a + 1])
    members[#members + 1] = ARGV[a + 7]
    created[#created + 1] = i
    created[#created + 1] = id
  end
end
if #members > 0 then
  redis.call('SET', KEYS[5], ARGV[6] .. table.concat(members, ',') .. ']}', 'EX', ARGV[7])
  redis.call('RPUSH', KEYS[3], ARGV[5])
  redis.call('PUBLISH', ARGV[4], 'queued')
end
return {created, skipped}`;

export const COMMIT = `
local cur = redis.call('HMGET', KEYS[1], 'id', 'status', 'task')
if not cur[1] then return {0} end
local s = cur[2]
if cur[1] ~= ARGV[1] or ${FINAL_CHECK} then return {0, cur[1], cur[3]} end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'task', ARGV[2])
local seq = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'id', id, 'task', ARGV[2])
redis.call('HSET', KEYS[1], 'id', id, 'status', ARGV[3], 'task', ARGV[2])
if ARGV[4] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  if redis.call('GET', KEYS[3]) == ARGV[8] then redis.call('DEL', KEYS[3]) end
end
redis.call('PUBLISH', ARGV[6], '{"id":"' .. id .. '","seq":"' .. seq .. '","task":' .. ARGV[2] .. '}')
return {1, id}`;

// The log of every task's events after ARGV[1] ('' for none), at most
// ARGV[2], with the log's head and, when older entries were trimmed, the
// oldest one kept ('0-0' when none was trimmed or the log does not exist).
// KEYS[1] the log.
export const READ_ALL = `
local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
local head, kept = '0-0', '0-0'
if type(info) == 'table' and not info.err then
  local f = {}
  for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
  head = f['last-generated-id']
  if f['entries-added'] and f['entries-added'] > f['length'] and f['first-entry'] then
    kept = f['first-entry'][1]
  end
end
local entries = {}
if ARGV[1] ~= '' then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
end
return {head, kept, entries}`;

// KEYS[1] the job stream, KEYS[2] the round of groups with queued jobs.
// ARGV[1] the consumer group, ARGV[2] the consumer, ARGV[3] the lease (ms),
// ARGV[4] the prefix of a group's list of queued jobs. A job whose lease ran
// out first; then a single task's job (only those wait in the stream); then
// the next group's in turn, moved into the stream as it is delivered (that
// group goes to the end of the round).
export const CLAIM = `
local cursor = '0-0'
for i = 1, 50 do
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', 1)
  local e = r[2][1]
  if e then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    return {e[1], e[2][2], p[1][4]}
  end
  cursor = r[1]
  if cursor == '0-0' then break end
end
local n = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
if not n then
  for i = 1, redis.call('LLEN', KEYS[2]) do
    local g = redis.call('LMOVE', KEYS[2], KEYS[2], 'LEFT', 'RIGHT')
    local job = redis.call('LPOP', ARGV[4] .. g)
    if redis.call('LLEN', ARGV[4] .. g) == 0 then redis.call('LREM', KEYS[2], 0, g) end
    if job then
      redis.call('XADD', KEYS[1], '*', 'job', job)
      n = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
      break
    end
  end
end
if n then
  local e = n[1][2][1]
  return {e[1], e[2][2], 1}
end
return false`;

const OWNED = `
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if type(p) ~= 'table' or not p[1] or p[1][2] ~= ARGV[2] or tostring(p[1][4]) ~= ARGV[4] then
  return 0
end`;

export const RENEW = `${OWNED}
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1`;

export const RELEASE = `${OWNED}
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', 999999999999, 'JUSTID')
redis.call('PUBLISH', ARGV[5], 'released')
return 1`;

export const ACK = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`;

// KEYS[1] the meter's readings hash, KEYS[2] the index of meters. ARGV[1]
// the readings' offset in the hour (ms), ARGV[2] the most readings the
// meter may hold (0: no limit), ARGV[3] the meter's key in the index, then
// timestamp/value pairs. Checks the grid and the limit, then merges,
// all in one step; fields go in chunks (Lua's unpack has a stack limit).
export const MERGE = `
local key = KEYS[1]
local offset = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local stored = redis.call('HLEN', key)
if stored > 0 then
  local have = tonumber(redis.call('HRANDFIELD', key)) % 3600000
  if have ~= offset then return {'off_grid', have} end
end
if max > 0 then
  local new = 0
  for i = 4, #ARGV, 2000 do
    local fields = {}
    for j = i, math.min(i + 1998, #ARGV - 1), 2 do fields[#fields + 1] = ARGV[j] end
    local got = redis.call('HMGET', key, unpack(fields))
    for k = 1, #fields do if not got[k] then new = new + 1 end end
  end
  if stored + new > max then return {'too_many', stored + new} end
end
local added = 0
for i = 4, #ARGV, 2000 do
  added = added + redis.call('HSET', key, unpack(ARGV, i, math.min(i + 1999, #ARGV)))
end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return {'ok', added}`;

// KEYS[1] the meter's readings hash, KEYS[2] the index of meters. Removes
// the readings at ARGV[1] or later and before ARGV[2] (epoch ms); a meter
// left with none leaves the index (ARGV[3] its key there). Returns how many.
export const DELETE_READINGS = `
local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
local doomed = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local t = tonumber(field)
  if t >= from and t < to then doomed[#doomed + 1] = field end
end
for i = 1, #doomed, 1000 do
  redis.call('HDEL', KEYS[1], unpack(doomed, i, math.min(i + 999, #doomed)))
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[3]) end
return #doomed`;

// KEYS[1] the meter's active-task key, KEYS[2] its readings, KEYS[3] its
// model, KEYS[4] the index of meters; ARGV[1] the meter's key in the index,
// ARGV[2] the key prefix. Unless the meter's task is not final (then
// {0, task id}), removes its readings and model: {1, readings, models}.
export const DELETE_METER = `
local holder = redis.call('GET', KEYS[1])
if holder then
  local s = redis.call('HGET', ARGV[2] .. 'task:' .. holder, 'status')
  if s and not (${FINAL_CHECK}) then return {0, holder} end
end
local readings = redis.call('HLEN', KEYS[2])
redis.call('DEL', KEYS[2])
local model = redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
return {1, readings, model}`;

// Consumers of the job group that hold no job and have not asked for one
// in ARGV[2] ms: workers that are gone. KEYS[1] the queue, ARGV[1] the group.
export const SWEEP = `
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) then
    removed = removed + redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
  end
end
return removed`;

// The figures `/metrics` shows, read without writing: KEYS[1] the job
// queue, KEYS[2] the index of tasks, KEYS[3] the round of groups with
// queued jobs; ARGV[1] the job group, ARGV[2] the key prefix, ARGV[3] the
// most tasks to look at. Returns {jobs in the queue (groups' waiting jobs
// included), jobs delivered and not acknowledged, the oldest job's id or
// false, the oldest waiting group's creation time or false, status, count,
// status, count, ...} over tasks not expired.
export const STATS = `
local jobs = redis.call('XLEN', KEYS[1])
local delivered = 0
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(p) == 'table' and p[1] then delivered = p[1] end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local oldestGroup = false
for _, g in ipairs(redis.call('LRANGE', KEYS[3], 0, 999)) do
  jobs = jobs + redis.call('LLEN', ARGV[2] .. 'jobs:group:' .. g)
  local record = redis.call('GET', ARGV[2] .. 'group:' .. g)
  local ok, decoded = pcall(cjson.decode, record or '')
  if ok and type(decoded) == 'table' and type(decoded.created_at) == 'string' then
    if not oldestGroup or decoded.created_at < oldestGroup then oldestGroup = decoded.created_at end
  end
end
local counts = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1, 'REV')) do
  local s = redis.call('HGET', ARGV[2] .. 'task:' .. id, 'status')
  if s then counts[s] = (counts[s] or 0) + 1 end
end
local out = {jobs, delivered, first and first[1] or false, oldestGroup}
for s, n in pairs(counts) do
  out[#out + 1] = s
  out[#out + 1] = n
end
return out`;

/** Every script the Redis broker runs. */
export const REDIS_SCRIPTS: readonly string[] = [
  CREATE,
  CREATE_GROUP,
  COMMIT,
  CLAIM,
  RENEW,
  RELEASE,
  ACK,
  MERGE,
  SWEEP,
  READ_ALL,
  DELETE_READINGS,
  DELETE_METER,
  STATS,
];
