/** Wires rate_limits: Redis counts when cache.redis_url is set, in-process counts otherwise; undefined without rules. */
import type { RedisStore } from '../cache/redis-store.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../telemetry/metrics.js';
import { MemoryCounter } from './counter.js';
import { SlidingWindowLimits, type RateLimits } from './rate-limits.js';
import { RedisCounter } from './redis-counter.js';
import { compileRules } from './rules.js';

export function buildRateLimits(config: Config, deps: { redis?: RedisStore; metrics: Metrics; now: () => number }): RateLimits | undefined {
  const rules = compileRules(config.rate_limits);
  if (!rules.any) return undefined;
  const counter = deps.redis ? new RedisCounter(deps.redis, deps.now) : new MemoryCounter(deps.now, config.rate_limits.max_keys);
  return new SlidingWindowLimits(rules, config.rate_limits, counter, {
    onLimited: (action) => deps.metrics.rateLimited.inc({ action }),
    onFailOpen: (action, reason) => deps.metrics.rateLimitFailOpen.inc({ action, reason }),
  });
}
