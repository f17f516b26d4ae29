/**
 * Log lines an attacker could otherwise multiply (refused requests, bad tokens): at most one line
 * per key and interval, with how many were held back since the last one. The metrics still count
 * every occurrence; the log says that it happens and why.
 */
import type { Logger } from 'pino';

export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    /** Where lines go unless a call names its own logger (a request's, with its trace ids). */
    private readonly log?: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string, log: Logger | undefined = this.log): void {
    const now = this.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    // Keys are a few fixed reasons per transport; the map cannot grow with traffic.
    this.last.set(key, { at: now, suppressed: 0 });
    log?.warn({ ...fields, ...(seen && seen.suppressed > 0 ? { suppressed: seen.suppressed } : {}) }, message);
  }
}
