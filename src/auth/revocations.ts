/**
 * Revoked users: one Redis key per user (`{prefix}revoked:{user}`), written by the `revoke`
 * CLI, optionally with a TTL (set it to your longest token lifetime). Connect refuses a revoked
 * user and refresh answers `expired: true`.
 *
 * Revocations are few and rare while connects are many, so every replica keeps a mirror of the
 * set in memory: it reads all revocation keys at start and every `auth.revocation_resync`, and
 * applies what the CLI announces on `{prefix}revocations` as it happens. A connect then costs
 * no Redis round trip, and a Redis outage keeps the revocations last read in force. Only before
 * the first read has succeeded (Redis down since start) is Redis asked per check; when that
 * fails too the user counts as not revoked: failing closed would disconnect every user and
 * cause the very reconnect storm we must avoid. `cpp_revocation_unknown_total` counts those.
 */
import type { Logger } from 'pino';
import type { RedisClient } from '../cache/redis-connection.js';
import { scanAll } from '../cache/redis-scan.js';
import type { RedisStore } from '../cache/redis-store.js';
import { subscribeTo, type Subscription } from '../cache/redis-subscriber.js';
import type { TraceContext } from '../telemetry/tracing.js';

export interface RevocationList {
  isRevoked(user: string, trace?: TraceContext): Promise<boolean>;
  /** The answer when the in-memory mirror has it, synchronously; undefined: ask isRevoked(). */
  isRevokedNow?(user: string): boolean | undefined;
}

/** Without Redis nobody can be revoked (the CLI refuses to revoke without cache.redis_url). */
export const noRevocations: RevocationList = { isRevoked: async () => false, isRevokedNow: () => false };

export const revocationKey = (store: RedisStore, user: string): string => store.key('revoked', user);
export const revocationChannel = (store: RedisStore): string => store.key('revocations');

/** What `revoke` announces after writing or deleting a user's key. */
export interface RevocationNotice {
  readonly user: string;
  readonly revoked: boolean;
  /** Revocation lifetime; absent: until lifted. */
  readonly ttl_ms?: number;
}

/** user → until when (unix ms; Infinity: until lifted). */
type Mirror = Map<string, number>;

export interface RedisRevocationsOptions {
  readonly redisUrl: string;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly now?: () => number;
  readonly onUnknown?: () => void;
  readonly onCount?: (count: number) => void;
}

export class RedisRevocations implements RevocationList {
  private mirror: Mirror | undefined;
  /** Notices received while a full read runs; applied again on top of its result. */
  private noticesDuringRead: RevocationNotice[] | undefined;
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastFailureLogAt = 0;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly store: RedisStore,
    private readonly options: RedisRevocationsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Call once the Redis connection had its chance to come up (commands are not queued while it connects). */
  async start(): Promise<void> {
    const channel = revocationChannel(this.store);
    this.subscription = await subscribeTo(this.options.redisUrl, channel, 'centrifugo-policy-proxy-revocations', (text) => this.received(text), this.options.log);
    await this.resync();
    this.scheduleNextRead();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.subscription?.close();
  }

  /** Every resync interval; every second while the set has never been read (per-check mode). */
  private scheduleNextRead(): void {
    if (this.stopped) return;
    const delay = this.mirror ? this.options.resyncMs : Math.min(this.options.resyncMs, 1000);
    this.timer = setTimeout(() => void this.resync().then(() => this.scheduleNextRead()), delay);
    this.timer.unref();
  }

  isRevokedNow(user: string): boolean | undefined {
    if (user === '') return false;
    if (!this.mirror) return undefined;
    const until = this.mirror.get(user);
    return until !== undefined && until > this.now();
  }

  async isRevoked(user: string, trace?: TraceContext): Promise<boolean> {
    const known = this.isRevokedNow(user);
    if (known !== undefined) return known;
    const found = await this.store.attempt('revoked', (client) => client.exists(revocationKey(this.store, user)), trace);
    if (found === undefined) this.options.onUnknown?.();
    return found === 1;
  }

  /** Reads every revocation key; when Redis cannot answer, the mirror read last stays. */
  async resync(): Promise<void> {
    this.noticesDuringRead = [];
    const prefix = revocationKey(this.store, '');
    // Many commands (a SCAN per 1,000 keys, per master), each with its own timeout: no overall one.
    const read = await this.store.attempt('revocation_sync', (client) => readRevocations(client, prefix, this.now()), undefined, 0);
    const late = this.noticesDuringRead;
    this.noticesDuringRead = undefined;
    if (!read) {
      if (this.now() - this.lastFailureLogAt > 60_000) {
        this.lastFailureLogAt = this.now();
        this.options.log.warn(this.mirror ? 'cannot read revocations from Redis; the ones read last stay in force' : 'cannot read revocations from Redis yet; asking Redis per connect');
      }
      return;
    }
    for (const notice of late) apply(read, notice, this.now());
    this.mirror = read;
    this.options.onCount?.(read.size);
  }

  private received(text: string): void {
    let notice: RevocationNotice;
    try {
      notice = JSON.parse(text) as RevocationNotice;
    } catch {
      return;
    }
    if (typeof notice.user !== 'string' || notice.user === '' || typeof notice.revoked !== 'boolean') return;
    this.noticesDuringRead?.push(notice);
    if (!this.mirror) return;
    apply(this.mirror, notice, this.now());
    this.options.onCount?.(this.mirror.size);
  }
}

function apply(mirror: Mirror, notice: RevocationNotice, now: number): void {
  if (!notice.revoked) mirror.delete(notice.user);
  else mirror.set(notice.user, typeof notice.ttl_ms === 'number' && notice.ttl_ms > 0 ? now + notice.ttl_ms : Infinity);
}

/** SCAN MATCH needs the prefix's glob characters escaped. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** Every `{prefix}revoked:*` key with its expiry, from every master of a cluster. */
async function readRevocations(client: RedisClient, keyPrefix: string, now: number): Promise<Mirror> {
  const mirror: Mirror = new Map();
  await scanAll(client, `${escapeGlob(keyPrefix)}*`, async (node, keys) => {
    const ttls = await node.pipeline(keys.map((key) => ['pttl', key])).exec();
    keys.forEach((key, i) => {
      const [err, ttl] = ttls?.[i] ?? [new Error('no reply'), -2];
      if (err || typeof ttl !== 'number' || ttl === -2) return; // gone meanwhile
      mirror.set(key.slice(keyPrefix.length), ttl === -1 ? Infinity : now + ttl);
    });
  });
  return mirror;
}
