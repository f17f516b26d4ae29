/**
 * Tokens already verified, by SHA-256 of the token, until their `exp`: reconnect storms resend
 * the same tokens, and a signature check (≈100 µs for RS256 through jose here) costs more than
 * an in-process lookup (≈0) or a Redis GET (≈13 µs of this process's CPU). The Redis tier lets a
 * token verified by one replica skip verification on the others. Keys also carry a fingerprint
 * of the verification settings, so replicas with different issuer/audience/keys never share.
 * A Redis failure is a miss: the token is simply verified again.
 */
import { LRUCache } from 'lru-cache';
import type { CacheCounters } from '../cache/decision-cache.js';
import type { RedisStore } from '../cache/redis-store.js';
import type { TraceContext } from '../telemetry/tracing.js';
import type { Identity } from './authenticator.js';

export interface VerifiedTokens {
  get(digest: string, trace?: TraceContext): Promise<Identity | undefined>;
  set(digest: string, identity: Identity, ttlMs: number): void;
  /** The in-process tier only, without waiting; undefined: ask get(). */
  peek?(digest: string): Identity | undefined;
}

export class TieredVerifiedTokens implements VerifiedTokens {
  private readonly memory = new LRUCache<string, Identity>({ max: 50_000 });

  constructor(
    /** Identifies the verification settings (algorithms, keys, issuer, audience, claims). */
    private readonly fingerprint: string,
    private readonly redis?: RedisStore,
    /** Lookups by tier and result, counted as the decision cache counts its own. */
    private readonly counters?: CacheCounters,
  ) {}

  async get(digest: string, trace?: TraceContext): Promise<Identity | undefined> {
    const known = this.memory.get(digest);
    this.counters?.count('memory', known ? 'hit' : 'miss');
    if (known || !this.redis) return known;
    const redis = this.redis;
    const stored = await redis.attempt('token_get', (client) => client.get(redis.key('t', this.fingerprint, digest)), trace);
    const identity = stored ? parseIdentity(stored) : undefined;
    this.counters?.count('redis', identity ? 'hit' : 'miss');
    if (identity) this.memory.set(digest, identity, { ttl: identity.expireAt ? Math.max(1, identity.expireAt * 1000 - Date.now()) : 60_000 });
    return identity;
  }

  /** A hit is counted; a miss is not (the caller then asks get(), which counts it). */
  peek(digest: string): Identity | undefined {
    const known = this.memory.get(digest);
    if (known) this.counters?.count('memory', 'hit');
    return known;
  }

  set(digest: string, identity: Identity, ttlMs: number): void {
    this.memory.set(digest, identity, { ttl: ttlMs });
    const redis = this.redis;
    if (!redis) return;
    // Not awaited: the connect answer must not wait for a cache write.
    void redis.attempt('token_set', (client) => client.set(redis.key('t', this.fingerprint, digest), JSON.stringify(identity), 'PX', Math.max(1, Math.round(ttlMs))));
  }
}

/** Only what an Identity holds; anything else in Redis is ignored (a miss). */
function parseIdentity(text: string): Identity | undefined {
  try {
    const value = JSON.parse(text) as Partial<Identity>;
    if (typeof value.user !== 'string' || value.user === '' || !Array.isArray(value.roles)) return undefined;
    return {
      user: value.user,
      roles: value.roles.filter((r): r is string => typeof r === 'string'),
      ...(typeof value.expireAt === 'number' ? { expireAt: value.expireAt } : {}),
      ...(value.info !== undefined ? { info: value.info } : {}),
    };
  } catch {
    return undefined;
  }
}
