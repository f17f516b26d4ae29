/**
 * Per-subject request limits for connect, publish and rpc (rate_limits in config). Handlers ask
 * after they would have allowed the request, so a denied request takes no slot; connect by
 * address asks first, before the costly token check it protects.
 *
 * Subjects: the user ID, which Centrifugo sets from our own connect answer (trusted); anonymous
 * connections count per connection (client ID), since all of them share the user "". The
 * address comes only from the operator's rate_limits.address_header, never from anything the
 * client chose (see clientAddress).
 *
 * When Redis cannot answer, requests are let through (fail open) and counted: a limit is
 * protection against floods, and refusing every publish and rpc because the cache is away
 * would turn a Redis outage into an outage of the service.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Headers } from '../core/messages.js';
import type { TraceContext } from '../telemetry/tracing.js';
import { ThrottledLog } from '../telemetry/throttled-log.js';
import type { WindowCounter } from './counter.js';
import type { CompiledRules, Rule } from './rules.js';

export type LimitedAction = 'connect' | 'publish' | 'rpc';

/** What handlers see: true to go on, false to answer codes.too_many_requests. */
export interface RateLimits {
  connectByAddress(headers: Headers, ctx: LimitContext): Promise<boolean>;
  connectByUser(user: string, ctx: LimitContext): Promise<boolean>;
  publish(request: { user: string; client: string; channel: string }, ctx: LimitContext): Promise<boolean>;
  rpc(request: { user: string; client: string; method: string }, ctx: LimitContext): Promise<boolean>;
}

export interface LimitContext {
  readonly log: Logger;
  readonly trace?: TraceContext;
}

export interface LimitHooks {
  readonly onLimited: (action: LimitedAction) => void;
  readonly onFailOpen: (action: LimitedAction, reason: 'redis' | 'no_address') => void;
}

/**
 * The client's address from the configured header. X-Forwarded-For style lists take the last
 * entry: the one the closest proxy (the operator's load balancer) appended; entries before it
 * are whatever the client sent.
 */
export function clientAddress(headers: Headers, header: string): string | undefined {
  const value = headers.get(header);
  if (value === undefined) return undefined;
  const last = value.slice(value.lastIndexOf(',') + 1).trim();
  return last === '' ? undefined : last;
}

const subjectOf = (user: string, client: string) => (user !== '' ? `user:${user}` : `client:${client}`);

export class SlidingWindowLimits implements RateLimits {
  // One line per reason every 10 s: floods are what limits are for, the log must not become one.
  private readonly lines = new ThrottledLog();

  constructor(
    private readonly rules: CompiledRules,
    private readonly config: Config['rate_limits'],
    private readonly counter: WindowCounter,
    private readonly hooks: LimitHooks,
  ) {}

  async connectByAddress(headers: Headers, ctx: LimitContext): Promise<boolean> {
    const rules = this.rules.connect.address;
    if (rules.length === 0) return true;
    const address = clientAddress(headers, this.config.address_header);
    if (address === undefined) {
      this.hooks.onFailOpen('connect', 'no_address');
      this.lines.warn(
        'no_address',
        { header: this.config.address_header },
        'connect not limited by address: the request carries no address header (list it in Centrifugo\'s proxy http_headers)',
        ctx.log,
      );
      return true;
    }
    return this.takeAll('connect', rules, `address:${address}`, ctx);
  }

  async connectByUser(user: string, ctx: LimitContext): Promise<boolean> {
    // Anonymous connects have no user to count by; rules by address cover them.
    if (user === '') return true;
    return this.takeAll('connect', this.rules.connect.user, `user:${user}`, ctx);
  }

  async publish(request: { user: string; client: string; channel: string }, ctx: LimitContext): Promise<boolean> {
    const rule = this.rules.publish(request.channel);
    return rule ? this.takeAll('publish', [rule], subjectOf(request.user, request.client), ctx) : true;
  }

  async rpc(request: { user: string; client: string; method: string }, ctx: LimitContext): Promise<boolean> {
    const rule = this.rules.rpc(request.method);
    return rule ? this.takeAll('rpc', [rule], subjectOf(request.user, request.client), ctx) : true;
  }

  private async takeAll(action: LimitedAction, rules: readonly Rule[], subject: string, ctx: LimitContext): Promise<boolean> {
    for (const rule of rules) {
      const taken = await this.counter.take(`${action}:${rule.id}:${subject}`, rule.windowMs, rule.limit, ctx.trace);
      if (taken === undefined) {
        this.hooks.onFailOpen(action, 'redis');
        this.lines.warn(`redis ${action}`, { action }, 'rate limit not checked: redis unavailable, request let through (fail open)', ctx.log);
        continue;
      }
      if (!taken) {
        this.hooks.onLimited(action);
        this.lines.warn(`limited ${action}`, { action, limit: rule.limit, window_ms: rule.windowMs }, 'rate limit hit', ctx.log);
        return false;
      }
    }
    return true;
  }
}
