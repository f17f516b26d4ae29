/**
 * Cached policy answers, keyed by policy version + query (so a reload can never serve a stale
 * decision). Two tiers: an in-process LRU in front of Redis shared by all replicas. Denies are
 * cached too. A Redis failure is a miss, never a deny and never an error.
 */
import { LRUCache } from 'lru-cache';
import type { TraceContext } from '../telemetry/tracing.js';
import type { RedisStore } from './redis-store.js';

/** Where an answer came from: a cache tier, or computed now ("none"). */
export type CacheTier = 'memory' | 'redis' | 'none';

export interface CachedDecision {
  readonly allowed: boolean;
  readonly tier: CacheTier;
}

export interface DecisionCache {
  /** The cached answer for `key`, else `compute()` stored in every tier. */
  /** `trace`: the request's trace context, parent of Redis spans. */
  lookup(key: string, compute: () => boolean, trace?: TraceContext): Promise<CachedDecision>;
  /**
   * The in-process tier's answer, synchronously (counted as a memory hit); undefined when it has
   * none, and then `lookup` is the way (it counts the miss). Lets a cached decision be answered
   * without a single promise.
   */
  peek?(key: string): boolean | undefined;
  close(): Promise<void>;
}

export interface CacheCounters {
  /** result: hit or miss (a Redis failure counts as a miss; errors are counted by RedisStore). */
  count(tier: 'memory' | 'redis', result: 'hit' | 'miss'): void;
}

const noCounters: CacheCounters = { count: () => undefined };

/** No caching: every lookup is computed. For tests and for measuring the engine alone. */
export class NoDecisionCache implements DecisionCache {
  async lookup(_key: string, compute: () => boolean): Promise<CachedDecision> {
    return { allowed: compute(), tier: 'none' };
  }
  async close(): Promise<void> {}
}

export interface TieredCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** Absent: in-process tier only. */
  readonly redis?: RedisStore;
  readonly counters?: CacheCounters;
}

export class TieredDecisionCache implements DecisionCache {
  private readonly memory: LRUCache<string, boolean>;
  /** Redis lookups under way, so concurrent identical misses ask Redis (and compute) once. */
  private readonly inflight = new Map<string, Promise<CachedDecision>>();
  private readonly redis?: RedisStore;
  private readonly counters: CacheCounters;
  private readonly ttlMs: number;

  constructor(options: TieredCacheOptions) {
    this.ttlMs = Math.max(1, options.ttlMs);
    this.memory = new LRUCache({ max: options.maxEntries, ttl: this.ttlMs });
    this.redis = options.redis;
    this.counters = options.counters ?? noCounters;
  }

  peek(key: string): boolean | undefined {
    const remembered = this.memory.get(key);
    if (remembered !== undefined) this.counters.count('memory', 'hit');
    return remembered;
  }

  async lookup(key: string, compute: () => boolean, trace?: TraceContext): Promise<CachedDecision> {
    const remembered = this.memory.get(key);
    if (remembered !== undefined) {
      this.counters.count('memory', 'hit');
      return { allowed: remembered, tier: 'memory' };
    }
    this.counters.count('memory', 'miss');
    if (!this.redis) {
      const allowed = compute();
      this.memory.set(key, allowed);
      return { allowed, tier: 'none' };
    }
    let shared = this.inflight.get(key);
    if (!shared) {
      shared = this.fromRedisOrCompute(this.redis, key, compute, trace).finally(() => this.inflight.delete(key));
      this.inflight.set(key, shared);
    }
    return shared;
  }

  private async fromRedisOrCompute(redis: RedisStore, key: string, compute: () => boolean, trace?: TraceContext): Promise<CachedDecision> {
    const redisKey = redis.key('d', key);
    const stored = await redis.attempt('get', (client) => client.get(redisKey), trace);
    if (stored === '1' || stored === '0') {
      this.counters.count('redis', 'hit');
      const allowed = stored === '1';
      this.memory.set(key, allowed);
      return { allowed, tier: 'redis' };
    }
    this.counters.count('redis', 'miss');
    const allowed = compute();
    this.memory.set(key, allowed);
    // Not awaited: the answer must not wait for a write another replica may never read.
    void redis.attempt('set', (client) => client.set(redisKey, allowed ? '1' : '0', 'PX', this.ttlMs), trace);
    return { allowed, tier: 'none' };
  }

  async close(): Promise<void> {
    this.memory.clear();
  }
}
