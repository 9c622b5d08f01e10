import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua scripts, each atomic on the server. Every one that moves a message first XACKs it and
 * re-adds it only when that XACK removed it from the pending list: a message another consumer has
 * already acked (after reclaiming it) is not resurrected.
 */
class Script {
  readonly sha: string;
  readonly source: string;
  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]) {
    try {
      return await redis.call('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return await redis.call('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** move(src, dst, group, id): ack and delete `id` in src; re-add its fields to dst with n+1. */
const MOVE = `
local function move(src, dst, group, id)
  local moved = 0
  if redis.call('XACK', src, group, id) == 1 then
    local e = redis.call('XRANGE', src, id, id)
    if e[1] then
      local f = e[1][2]
      local out = {}
      local counted = false
      for k = 1, #f, 2 do
        local v = f[k + 1]
        if f[k] == 'n' then
          v = tostring((tonumber(v) or 0) + 1)
          counted = true
        end
        out[#out + 1] = f[k]
        out[#out + 1] = v
      end
      if not counted then
        out[#out + 1] = 'n'
        out[#out + 1] = '1'
      end
      redis.call('XADD', dst, '*', unpack(out))
      moved = 1
    end
  end
  redis.call('XDEL', src, id)
  return moved
end
`;

/**
 * A batch publish as one command, atomic on the server (so cheaper than MULTI with an XADD per
 * message: one command to encode and one reply to parse). KEYS: stream. ARGV: pairs of job id and
 * priority ('' for none), fields as keys.ts decodeFields reads them. Returns -1, adding nothing, when the
 * stream does not exist (a flushed Redis: the caller declares it again), else how many were added.
 */
export const publishScript = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('XADD', KEYS[1], '*', 'j', ARGV[i], 'n', '0')
  else
    redis.call('XADD', KEYS[1], '*', 'j', ARGV[i], 'n', '0', 'p', ARGV[i + 1])
  end
end
return #ARGV / 2
`);

/** KEYS: source stream, target stream. ARGV: group, ids… Returns how many were moved. */
export const moveScript = new Script(`${MOVE}
local n = 0
for i = 2, #ARGV do n = n + move(KEYS[1], KEYS[2], ARGV[1], ARGV[i]) end
return n
`);

/**
 * A subscription leaving. KEYS: stream, consumers set. ARGV: group, consumer, ids to keep…
 * Unregisters the consumer, puts every entry of its pending list except the kept ones (deliveries
 * the application still holds after `cancel`) back at the tail of the stream, and deletes the
 * consumer from the group once its pending list is empty. Returns how many were put back.
 */
export const releaseScript = new Script(`${MOVE}
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
local moved, kept, start = 0, 0, '-'
while true do
  local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], start, '+', 200, ARGV[2])
  if type(p) ~= 'table' or p.err or #p == 0 then break end
  for _, e in ipairs(p) do
    if keep[e[1]] then kept = kept + 1 else moved = moved + move(KEYS[1], KEYS[1], ARGV[1], e[1]) end
  end
  start = '(' .. p[#p][1]
end
if kept == 0 then redis.pcall('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return moved
`);

/**
 * The subscription's periodic tick. KEYS: stream, consumers set. ARGV: group, consumer, ttl ms
 * (0: do not register — a cancelled subscription), prune-after ms (0: do not prune), ids held…
 * Registers the consumer as live until now + ttl, forgets expired registrations, and resets the
 * idle time of every held entry still owned by this consumer (XCLAIM to itself, JUSTID: no
 * delivery-count increment), so a live consumer's long job is never reclaimed; only silence past
 * the visibility timeout is. Entries another consumer took over meanwhile are left alone.
 * Then deletes the group's dead consumers: not registered, nothing pending, idle past prune-after
 * (what a killed process leaves once its entries were reclaimed). Returns how many were refreshed.
 */
export const refreshScript = new Script(`${NOW}
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('ZADD', KEYS[2], now + ttl, ARGV[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
for i = 5, #ARGV do
  local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if type(p) == 'table' and not p.err and p[1] and p[1][2] == ARGV[2] then
    claim[#claim + 1] = ARGV[i]
  end
end
local refreshed = #claim - 5
if refreshed > 0 then
  claim[#claim + 1] = 'JUSTID'
  redis.call(unpack(claim))
end
local prune = tonumber(ARGV[4])
if prune > 0 then
  local cs = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
  if type(cs) == 'table' and not cs.err then
    for _, c in ipairs(cs) do
      local info = {}
      for k = 1, #c, 2 do info[c[k]] = c[k + 1] end
      if info.pending == 0 and info.idle > prune and not redis.call('ZSCORE', KEYS[2], info.name) then
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info.name)
      end
    end
  end
end
return refreshed
`);

/**
 * KEYS: stream, consumers set. ARGV: group. Returns {ready, unacked, consumers}: acked entries
 * are deleted, so the stream holds only ready and pending ones, and ready = XLEN − pending.
 */
export const statsScript = new Script(`${NOW}
local consumers = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, consumers} end
local len = redis.call('XLEN', KEYS[1])
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])
local pending = 0
if type(p) == 'table' and not p.err then pending = p[1] end
return {len - pending, pending, consumers}
`);
