/** Where sliding-window counts live: Redis (shared by every replica) or this process. */
import { LRUCache } from 'lru-cache';
import type { TraceContext } from '../telemetry/tracing.js';
import { takeSlot, type WindowState } from './sliding-window.js';

export interface WindowCounter {
  /**
   * Counts one request under `key` when its sliding window holds fewer than `limit`: true
   * (counted), false (full, not counted), undefined when the count could not be had (Redis down
   * or slow); the caller decides what that means.
   */
  take(key: string, windowMs: number, limit: number, trace?: TraceContext): Promise<boolean | undefined>;
}

/**
 * In-process counts, per replica: with N replicas behind Centrifugo a limit lets through up to
 * N times as much. Bounded: the least recently used keys are forgotten first (a forgotten key
 * starts again from zero), and a key lasts two windows, after which it counts nothing anyway.
 */
export class MemoryCounter implements WindowCounter {
  private readonly windows: LRUCache<string, WindowState>;

  constructor(
    private readonly now: () => number,
    maxKeys = 100_000,
  ) {
    this.windows = new LRUCache({ max: maxKeys });
  }

  async take(key: string, windowMs: number, limit: number): Promise<boolean> {
    const { allowed, state } = takeSlot(this.windows.get(key), this.now(), windowMs, limit);
    if (allowed) this.windows.set(key, state, { ttl: 2 * windowMs });
    return allowed;
  }
}
