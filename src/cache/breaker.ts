/**
 * A circuit breaker for a dependency we can live without (Redis). After `failures` failures in
 * a row it opens: calls are skipped at once for `cooldownMs`, so requests stop paying a
 * timeout each. Then one probe call is let through (half-open); success closes it again.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
  readonly onStateChange?: (state: BreakerState) => void;
}

export class Breaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probing = false;
  private current: BreakerState = 'closed';
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call may go ahead now; a true answer in half-open state claims the one probe. */
  allows(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) this.move('half_open');
    if (this.current === 'half_open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.move('closed');
  }

  /**
   * The call ended without telling us anything about the dependency (our own caller went away):
   * counts as neither success nor failure, but gives back a half-open probe it held.
   */
  abandoned(): void {
    this.probing = false;
  }

  failed(): void {
    this.consecutiveFailures += 1;
    this.probing = false;
    if (this.current === 'half_open' || (this.current === 'closed' && this.consecutiveFailures >= this.options.failures)) {
      this.openedAt = this.now();
      this.move('open');
    }
  }

  private move(state: BreakerState): void {
    this.current = state;
    this.options.onStateChange?.(state);
  }
}
