/** The Redis of a bench run: the machine's (REDIS_URL) if it answers, else a throwaway redis-server. */
import { Redis } from 'ioredis';
import { dropPrefix, redisClient, startThrowawayRedis } from '../../test/helpers/redis.js';
import { haveTool } from './processes.js';

export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface BenchRedis {
  readonly url: string;
  /** Where it runs, for the report. */
  readonly kind: string;
  /** Drops the run's keys (a shared Redis) or stops the throwaway server. */
  stop(): Promise<void>;
}

/** REDIS_URL if it answers (keys under `prefix` dropped at the end), else a throwaway redis-server, else none. */
export async function benchRedis(prefix: string): Promise<BenchRedis | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) {
    return {
      url,
      kind: url,
      async stop() {
        const client = redisClient(url);
        await dropPrefix(client, prefix);
        client.disconnect();
      },
    };
  }
  if (!haveTool('redis-server')) return undefined;
  const throwaway = await startThrowawayRedis();
  return { url: throwaway.url, kind: 'a throwaway redis-server, not pinned', stop: () => throwaway.stop() };
}
