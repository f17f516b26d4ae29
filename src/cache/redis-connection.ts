/**
 * One way to open Redis for everything that uses it (decision cache, verified tokens,
 * revocations, policy announcements). Three deployments from one URL:
 *   redis://[user:pass@]host:6379[/db]    rediss:// for TLS       (single node)
 *   redis+sentinel://[:pass@]s1:26379,s2:26379/MASTER_NAME[/db][?sentinel_password=P]   (Sentinel)
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
  /** The sentinels' own credentials, when they have requirepass (separate from the master's). */
  readonly sentinelUsername?: string;
  readonly sentinelPassword?: string;
}

export class RedisUrlError extends Error {}

const SENTINEL_PARAMS = ['sentinel_username', 'sentinel_password'];

/** Only redis+sentinel:// takes query parameters: the sentinels' credentials. Anything else is a mistake to report. */
function sentinelParams(scheme: string, query: string | undefined): Pick<ParsedUrl, 'sentinelUsername' | 'sentinelPassword'> {
  if (query === undefined) return {};
  if (scheme !== 'redis+sentinel') throw new RedisUrlError(`${scheme}:// takes no query parameters (only redis+sentinel:// takes ${SENTINEL_PARAMS.join(', ')})`);
  const params = new URLSearchParams(query);
  for (const name of params.keys()) {
    if (!SENTINEL_PARAMS.includes(name)) throw new RedisUrlError(`unknown parameter "${name}" in redis+sentinel:// URL (known: ${SENTINEL_PARAMS.join(', ')})`);
  }
  return { sentinelUsername: params.get('sentinel_username') ?? undefined, sentinelPassword: params.get('sentinel_password') ?? undefined };
}

export function parseRedisUrl(url: string): ParsedUrl {
  const match = /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)(?:\/([^/?]*))?(?:\/(\d+))?(?:\?(.*))?$/.exec(url);
  if (!match) throw new RedisUrlError(`not a Redis URL: expected redis://, rediss://, redis+sentinel:// or redis+cluster://`);
  const [, scheme = '', user, pass, hostList = '', first, second, query] = match;
  const hosts = hostList.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    const host = at > 0 ? entry.slice(0, at) : entry;
    const port = at > 0 ? Number(entry.slice(at + 1)) : scheme === 'redis+sentinel' ? 26379 : 6379;
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new RedisUrlError(`bad host:port "${entry}" in Redis URL`);
    return { host: host.replace(/^\[|\]$/g, ''), port };
  });
  const decoded = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  const base = { hosts, username: decoded(user), password: decoded(pass), ...sentinelParams(scheme, query) };
  if (scheme === 'redis+sentinel') {
    if (!first) throw new RedisUrlError('redis+sentinel:// needs the master name as its path, e.g. redis+sentinel://s1:26379/mymaster');
    return { ...base, kind: 'sentinel', masterName: first, db: second ? Number(second) : undefined };
  }
  if (scheme === 'redis+cluster') {
    // Silently using db 0 when another was asked for would mix two deployments' keys.
    if (first) throw new RedisUrlError('redis+cluster:// takes no path: a Redis Cluster has database 0 only (use cache.key_prefix to separate deployments)');
    return { ...base, kind: 'cluster' };
  }
  if (hosts.length !== 1) throw new RedisUrlError('redis:// takes one host; use redis+sentinel:// or redis+cluster:// for several');
  if (second) throw new RedisUrlError(`${scheme}:// takes one path segment, the database number, e.g. ${scheme}://host:6379/0`);
  if (first && !/^\d+$/.test(first)) throw new RedisUrlError(`${scheme}:// path is the database number, got "${first}"`);
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
    return new Redis({
      ...common,
      sentinels: parsed.hosts,
      name: parsed.masterName,
      db: parsed.db,
      sentinelUsername: parsed.sentinelUsername,
      sentinelPassword: parsed.sentinelPassword,
      sentinelRetryStrategy: reconnectDelay,
    });
  }
  const [only] = parsed.hosts;
  return new Redis({ ...common, host: only?.host, port: only?.port, db: parsed.db });
}
