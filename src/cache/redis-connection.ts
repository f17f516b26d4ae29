/**
 * One way to open Redis for everything that uses it (decision cache, verified tokens,
 * revocations, policy announcements). Three deployments from one URL:
 *   redis://[user:pass@]host:6379[/db]    rediss:// for TLS       (single node)
 *   redis+sentinel://[:pass@]s1:26379,s2:26379/MASTER_NAME[/db]   (Sentinel)
 *   redis+cluster://[:pass@]n1:7000,n2:7001                       (Cluster)
 * Commands never queue while Redis is away: a call fails at once and the caller treats it as
 * a cache miss, because waiting would eat Centrifugo's 1 s proxy budget.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** Upper bound on one command; a slower answer counts as a failure (a miss). */
  readonly commandTimeoutMs: number;
  /** Shown in CLIENT LIST, helps operators tell connections apart. */
  readonly connectionName?: string;
  /** Subscribers must queue SUBSCRIBE until connected; everything else must not. */
  readonly queueWhileOffline?: boolean;
}

/** Reconnect with capped exponential backoff and jitter, forever: the cache comes back by itself. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

interface ParsedUrl {
  readonly kind: 'single' | 'sentinel' | 'cluster';
  readonly hosts: Array<{ host: string; port: number }>;
  readonly username?: string;
  readonly password?: string;
  readonly masterName?: string;
  readonly db?: number;
}

export class RedisUrlError extends Error {}

export function parseRedisUrl(url: string): ParsedUrl {
  const match = /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)(?:\/([^/]*))?(?:\/(\d+))?$/.exec(url);
  if (!match) throw new RedisUrlError(`not a Redis URL: expected redis://, rediss://, redis+sentinel:// or redis+cluster://`);
  const [, scheme = '', user, pass, hostList = '', first, second] = match;
  const hosts = hostList.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    const host = at > 0 ? entry.slice(0, at) : entry;
    const port = at > 0 ? Number(entry.slice(at + 1)) : scheme === 'redis+sentinel' ? 26379 : 6379;
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new RedisUrlError(`bad host:port "${entry}" in Redis URL`);
    return { host: host.replace(/^\[|\]$/g, ''), port };
  });
  const decoded = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  const base = { hosts, username: decoded(user), password: decoded(pass) };
  if (scheme === 'redis+sentinel') {
    if (!first) throw new RedisUrlError('redis+sentinel:// needs the master name as its path, e.g. redis+sentinel://s1:26379/mymaster');
    return { ...base, kind: 'sentinel', masterName: first, db: second ? Number(second) : undefined };
  }
  if (scheme === 'redis+cluster') return { ...base, kind: 'cluster' };
  if (hosts.length !== 1) throw new RedisUrlError('redis:// takes one host; use redis+sentinel:// or redis+cluster:// for several');
  return { ...base, kind: 'single', db: first ? Number(first) : undefined };
}

export function createRedis(url: string, options: RedisConnectionOptions): RedisClient {
  const parsed = parseRedisUrl(url);
  const common: RedisOptions = {
    connectionName: options.connectionName,
    enableOfflineQueue: options.queueWhileOffline ?? false,
    maxRetriesPerRequest: options.queueWhileOffline ? null : 0,
    commandTimeout: options.queueWhileOffline ? undefined : options.commandTimeoutMs,
    connectTimeout: 2000,
    retryStrategy: reconnectDelay,
    username: parsed.username,
    password: parsed.password,
    tls: url.startsWith('rediss://') ? {} : undefined,
  };
  if (parsed.kind === 'cluster') {
    const clusterOptions: ClusterOptions = {
      redisOptions: common,
      enableOfflineQueue: common.enableOfflineQueue,
      clusterRetryStrategy: reconnectDelay,
    };
    return new Cluster(parsed.hosts, clusterOptions);
  }
  if (parsed.kind === 'sentinel') {
    return new Redis({ ...common, sentinels: parsed.hosts, name: parsed.masterName, db: parsed.db, sentinelRetryStrategy: reconnectDelay });
  }
  const [only] = parsed.hosts;
  return new Redis({ ...common, host: only?.host, port: only?.port, db: parsed.db });
}
