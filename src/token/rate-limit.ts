/**
 * Fixed-window request counts per key (the user), in memory per replica: enough to stop one
 * client from hammering the signer. Windows end on their own (entries expire with the window).
 */
import { LRUCache } from 'lru-cache';

export interface RateLimiter {
  /** True when this request is within the limit (and counts it); false: refuse with 429. */
  take(key: string): boolean;
  /** Seconds until the key's window ends (for Retry-After). */
  retryAfter(key: string): number;
}

export const unlimited: RateLimiter = { take: () => true, retryAfter: () => 0 };

export function fixedWindow(requests: number, windowMs: number, now: () => number, maxKeys = 100_000): RateLimiter {
  if (requests === 0) return unlimited;
  const windows = new LRUCache<string, { count: number; endsAt: number }>({ max: maxKeys });
  const current = (key: string) => {
    const at = now();
    let window = windows.get(key);
    if (!window || window.endsAt <= at) {
      window = { count: 0, endsAt: at + windowMs };
      windows.set(key, window);
    }
    return window;
  };
  return {
    take(key) {
      const window = current(key);
      if (window.count >= requests) return false;
      window.count += 1;
      return true;
    },
    retryAfter(key) {
      return Math.max(1, Math.ceil((current(key).endsAt - now()) / 1000));
    },
  };
}
