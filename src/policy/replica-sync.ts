/**
 * Keeps replicas on one policy: when an instance loads a new version from its files, it
 * announces the version on a Redis channel; every other instance re-reads its own files and
 * compares. A replica whose files give another version says so (log line and the
 * cpp_policy_replica_mismatch gauge) instead of silently serving a different policy.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisStore } from '../cache/redis-store.js';
import { createRedis, type RedisClient } from '../cache/redis-connection.js';
import type { PolicyStore } from './policy-store.js';

const ANNOUNCED = 'announced by another replica';

interface Announcement {
  readonly instance: string;
  readonly version: string;
}

export class ReplicaSync {
  readonly instance = randomUUID();
  private subscriber: RedisClient | undefined;
  private readonly channel: string;

  constructor(
    private readonly store: PolicyStore,
    private readonly redis: RedisStore,
    private readonly redisUrl: string,
    private readonly log: Logger,
    private readonly onMismatch: (mismatch: boolean) => void,
  ) {
    this.channel = redis.key('policy');
    store.onReload((outcome, reason) => {
      if (outcome.result === 'loaded' && reason !== ANNOUNCED) void this.announce(outcome.version);
    });
  }

  async start(): Promise<void> {
    // A subscribing connection can do nothing else, so it is a connection of its own; it queues
    // SUBSCRIBE until connected and resubscribes by itself after reconnecting.
    this.subscriber = createRedis(this.redisUrl, { commandTimeoutMs: 0, connectionName: 'centrifugo-policy-proxy-policy-sync', queueWhileOffline: true });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) void this.received(text);
    });
    // Wait a moment for the subscription, but never hold the start on Redis: it may be down.
    const subscribed = this.subscriber.subscribe(this.channel).then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([subscribed, new Promise<false>((resolve) => setTimeout(() => resolve(false), 1000).unref())]);
    if (!ok) this.log.warn('not subscribed to policy announcements yet (Redis unreachable); will subscribe when it is back');
  }

  private async announce(version: string): Promise<void> {
    const message: Announcement = { instance: this.instance, version };
    await this.redis.attempt('publish', (client) => client.publish(this.channel, JSON.stringify(message)));
  }

  private async received(text: string): Promise<void> {
    let message: Announcement;
    try {
      message = JSON.parse(text) as Announcement;
    } catch {
      return;
    }
    if (message.instance === this.instance || typeof message.version !== 'string') return;
    const outcome = await this.store.reload(ANNOUNCED);
    const mine = outcome.version;
    const mismatch = mine !== message.version;
    this.onMismatch(mismatch);
    if (mismatch) {
      this.log.warn(
        { announced_version: message.version, policy_version: mine, replica: message.instance, ...(outcome.result === 'failed' ? { error: outcome.error } : {}) },
        'another replica loaded a policy version these files do not give: check that every replica has the same policy files',
      );
    } else {
      this.log.info({ policy_version: mine }, 'policy version matches the announcing replica');
    }
  }

  stop(): void {
    this.subscriber?.disconnect();
  }
}
