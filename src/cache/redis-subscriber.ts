/**
 * A Redis pub/sub subscription on a connection of its own (a subscribing connection can do
 * nothing else). ioredis queues SUBSCRIBE until connected and resubscribes after reconnecting,
 * so a Redis that is down at start is picked up when it comes back.
 */
import type { Logger } from 'pino';
import { createRedis, type RedisClient } from './redis-connection.js';

export interface Subscription {
  close(): void;
}

export async function subscribeTo(
  redisUrl: string,
  channel: string,
  connectionName: string,
  onMessage: (text: string) => void,
  log: Logger,
): Promise<Subscription> {
  const subscriber: RedisClient = createRedis(redisUrl, { commandTimeoutMs: 0, connectionName, queueWhileOffline: true });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (from: string, text: string) => {
    if (from === channel) onMessage(text);
  });
  // Wait a moment for the subscription, but never hold the start on Redis: it may be down.
  const subscribed = subscriber.subscribe(channel).then(
    () => true,
    () => false,
  );
  const ok = await Promise.race([subscribed, new Promise<false>((resolve) => setTimeout(() => resolve(false), 1000).unref())]);
  if (!ok) log.warn({ channel }, 'not subscribed yet (Redis unreachable); will subscribe when it is back');
  return { close: () => subscriber.disconnect() };
}
