/**
 * Revoked users: one Redis key per user (`{prefix}revoked:{user}`), written by the `revoke`
 * CLI, optionally with a TTL (set it to your longest token lifetime). Connect refuses a revoked
 * user and refresh answers `expired: true`. When Redis cannot be asked, the user counts as not
 * revoked: failing closed would disconnect every user during a Redis outage and cause the very
 * reconnect storm we must avoid. The `revocation_unknown` metric shows when that happens.
 */
import type { RedisStore } from '../cache/redis-store.js';
import type { TraceContext } from '../telemetry/tracing.js';

export interface RevocationList {
  isRevoked(user: string, trace?: TraceContext): Promise<boolean>;
}

/** Without Redis nobody can be revoked (the CLI refuses to revoke without cache.redis_url). */
export const noRevocations: RevocationList = { isRevoked: async () => false };

export const revocationKey = (store: RedisStore, user: string): string => store.key('revoked', user);

export class RedisRevocations implements RevocationList {
  constructor(
    private readonly store: RedisStore,
    private readonly onUnknown: () => void = () => undefined,
  ) {}

  async isRevoked(user: string, trace?: TraceContext): Promise<boolean> {
    if (user === '') return false;
    const found = await this.store.attempt('revoked', (client) => client.exists(revocationKey(this.store, user)), trace);
    if (found === undefined) this.onUnknown();
    return found === 1;
  }
}
