/**
 * Cached policy answers, keyed by policy version + query. A cache failure is a miss, never an
 * error: implementations swallow their own failures.
 */
import { LRUCache } from 'lru-cache';

export interface DecisionCache {
  get(key: string): Promise<boolean | undefined>;
  set(key: string, allowed: boolean): Promise<void>;
  close(): Promise<void>;
}

export class NoDecisionCache implements DecisionCache {
  async get(): Promise<undefined> {
    return undefined;
  }
  async set(): Promise<void> {}
  async close(): Promise<void> {}
}

/** In-process tier: bounded entries, TTL. */
export class LruDecisionCache implements DecisionCache {
  private readonly lru: LRUCache<string, boolean>;

  constructor(maxEntries: number, ttlMs: number) {
    this.lru = new LRUCache({ max: maxEntries, ttl: Math.max(1, ttlMs) });
  }

  async get(key: string): Promise<boolean | undefined> {
    return this.lru.get(key);
  }

  async set(key: string, allowed: boolean): Promise<void> {
    this.lru.set(key, allowed);
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
