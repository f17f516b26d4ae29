/**
 * Redis as an optional helper: every call goes through a breaker and a failure (error, timeout,
 * breaker open) comes back as `undefined`, never as an exception, because Redis being away
 * must cost a cache miss and nothing more.
 */
import type { Logger } from 'pino';
import { inSpan, type TraceContext } from '../telemetry/tracing.js';
import { Breaker, type BreakerState } from './breaker.js';
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection.js';

export interface RedisStoreHooks {
  readonly onError?: (operation: string) => void;
  readonly onBreaker?: (state: BreakerState) => void;
}

export class RedisStore {
  readonly breaker: Breaker;
  private lastErrorLogAt = 0;

  constructor(
    readonly client: RedisClient,
    readonly prefix: string,
    private readonly log: Logger,
    private readonly hooks: RedisStoreHooks = {},
    breaker?: Breaker,
  ) {
    this.breaker =
      breaker ??
      new Breaker({
        failures: 5,
        cooldownMs: 2000,
        onStateChange: (state) => {
          hooks.onBreaker?.(state);
          if (state === 'open') log.warn('redis breaker open: serving from the in-process cache only');
          if (state === 'closed') log.info('redis breaker closed: redis is back');
        },
      });
  }

  /**
   * Runs one Redis call; undefined when Redis is unavailable, the breaker is open or the call
   * outlives `deadlineMs` (default: the connection's command timeout). With a trace context, a child span.
   */
  async attempt<T>(operation: string, call: (client: RedisClient) => Promise<T>, trace?: TraceContext, deadlineMs = commandTimeoutOf(this.client)): Promise<T | undefined> {
    if (!this.breaker.allows()) return undefined;
    try {
      const run = () => withDeadline(call(this.client), deadlineMs);
      const value = trace ? await inSpan(trace, `redis ${operation}`, run) : await run();
      this.breaker.succeeded();
      return value;
    } catch (err) {
      this.breaker.failed();
      this.hooks.onError?.(operation);
      // One line per second at most: a dead Redis must not flood the logs.
      const now = Date.now();
      if (now - this.lastErrorLogAt > 1000) {
        this.lastErrorLogAt = now;
        this.log.warn({ operation, err: (err as Error).message }, 'redis call failed; treated as a miss');
      }
      return undefined;
    }
  }

  /** Resolves true once connected, false after `timeoutMs` (the service starts anyway: no Redis is a miss). */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.once('ready', onReady);
    });
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/**
 * The command timeout the connection was built with. A cluster client retries a command while
 * its slots move to another master (and queues it on the node), each try with its own timeout,
 * so only a deadline around the whole call keeps a failover within the decision's budget.
 */
function commandTimeoutOf(client: RedisClient): number | undefined {
  return client instanceof Cluster ? client.options.redisOptions?.commandTimeout : client.options.commandTimeout;
}

function withDeadline<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (!ms) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
