/**
 * Sliding-window counts in Redis, shared by every replica. One hash per limit and subject
 * (fields w, c, p: window number, current and previous counts), read and updated by one Lua
 * script, so concurrent requests on any replica cannot both take the last slot, and a single
 * key per call works on Redis Cluster. The script mirrors takeSlot() in sliding-window.ts.
 */
import type { RedisStore } from '../cache/redis-store.js';
import type { TraceContext } from '../telemetry/tracing.js';
import type { WindowCounter } from './counter.js';

const TAKE_SLOT = `
local now = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = math.floor(now / size)
local current, previous = 0, 0
local stored = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w = tonumber(stored[1])
if w then
  if w >= window then
    window = w
    current = tonumber(stored[2]) or 0
    previous = tonumber(stored[3]) or 0
  elseif w == window - 1 then
    previous = tonumber(stored[2]) or 0
  end
end
local elapsed = math.min(size, math.max(0, now - window * size))
if previous * (size - elapsed) + current * size >= limit * size then
  return 0
end
redis.call('HSET', KEYS[1], 'w', window, 'c', current + 1, 'p', previous)
redis.call('PEXPIRE', KEYS[1], size * 2)
return 1
`;

const COMMAND = 'cppTakeSlot';
type TakeSlotCommand = (key: string, now: number, windowMs: number, limit: number) => Promise<number>;

export class RedisCounter implements WindowCounter {
  constructor(
    private readonly store: RedisStore,
    private readonly now: () => number,
  ) {
    // Sent once as EVALSHA; ioredis loads the script again by itself after a Redis restart.
    store.client.defineCommand(COMMAND, { numberOfKeys: 1, lua: TAKE_SLOT });
  }

  async take(key: string, windowMs: number, limit: number, trace?: TraceContext): Promise<boolean | undefined> {
    // The store's breaker and command timeout apply: a Redis that is away costs no waiting.
    const answer = await this.store.attempt(
      'rate_limit',
      (client) => (client as unknown as Record<typeof COMMAND, TakeSlotCommand>)[COMMAND](this.store.key('rl', key), this.now(), windowMs, limit),
      trace,
    );
    return answer === undefined ? undefined : answer === 1;
  }
}
