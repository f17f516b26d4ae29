/**
 * Keeps replicas on one policy: when an instance loads a new version from its files, it
 * announces the version on a Redis channel; every other instance re-reads its own files and
 * compares. A replica whose files give another version says so (log line and the
 * cpp_policy_replica_mismatch gauge) instead of silently serving a different policy.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisStore } from '../cache/redis-store.js';
import { subscribeTo, type Subscription } from '../cache/redis-subscriber.js';
import type { PolicyStore } from './policy-store.js';

const ANNOUNCED = 'announced by another replica';

interface Announcement {
  readonly instance: string;
  readonly version: string;
}

export class ReplicaSync {
  readonly instance = randomUUID();
  private subscription: Subscription | undefined;
  private readonly channel: string;
  /** The version another replica announced last, when this one could not reproduce it. */
  private unmatched: string | undefined;

  constructor(
    private readonly store: PolicyStore,
    private readonly redis: RedisStore,
    private readonly redisUrl: string,
    private readonly log: Logger,
    private readonly onMismatch: (mismatch: boolean) => void,
  ) {
    this.channel = redis.key('policy');
    store.onReload((outcome, reason) => {
      if (outcome.result !== 'loaded' || reason === ANNOUNCED) return;
      void this.announce(outcome.version);
      // Files that arrive later than another replica's (a ConfigMap rollout) end the mismatch.
      if (this.unmatched === outcome.version) {
        this.unmatched = undefined;
        this.onMismatch(false);
        this.log.info({ policy_version: outcome.version }, 'policy files caught up with the version another replica announced');
      }
    });
  }

  async start(): Promise<void> {
    this.subscription = await subscribeTo(this.redisUrl, this.channel, 'centrifugo-policy-proxy-policy-sync', (text) => void this.received(text), this.log);
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
    this.unmatched = mismatch ? message.version : undefined;
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
    this.subscription?.close();
  }
}
