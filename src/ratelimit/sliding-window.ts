/**
 * The sliding window, approximated with two fixed-window counters (the current window and the
 * one before it): the previous count is weighted by how much of it still overlaps the sliding
 * window. Constant memory per key whatever the limit, and the same integer arithmetic runs here
 * (in-process) and in the Redis script (redis-counter.ts), so both give the same answers.
 */

/** What one key remembers: the number of its current fixed window and two counts. */
export interface WindowState {
  /** floor(now / windowMs) when `current` was last counted into. */
  readonly window: number;
  readonly current: number;
  readonly previous: number;
}

export interface Take {
  readonly allowed: boolean;
  /** The state to store (unchanged counts when refused: a refused request takes no slot). */
  readonly state: WindowState;
}

/**
 * Counts one request at `now` if the sliding window ending at `now` holds fewer than `limit`.
 * Integer-only comparison (previous × remaining + current × window < limit × window) so the Lua
 * script, whose numbers are doubles, cannot round differently.
 */
export function takeSlot(stored: WindowState | undefined, now: number, windowMs: number, limit: number): Take {
  let window = Math.floor(now / windowMs);
  let current = 0;
  let previous = 0;
  if (stored) {
    if (stored.window >= window) {
      // Same window, or one a replica with a clock slightly ahead already opened: count into it.
      window = stored.window;
      current = stored.current;
      previous = stored.previous;
    } else if (stored.window === window - 1) {
      previous = stored.current;
    }
  }
  const elapsed = Math.min(windowMs, Math.max(0, now - window * windowMs));
  const allowed = previous * (windowMs - elapsed) + current * windowMs < limit * windowMs;
  return { allowed, state: { window, current: allowed ? current + 1 : current, previous } };
}
