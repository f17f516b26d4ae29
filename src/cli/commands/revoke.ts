import { pino } from 'pino';
import { RedisStore } from '../../cache/redis-store.js';
import { createRedis } from '../../cache/redis-connection.js';
import { revocationChannel, revocationKey, type RevocationNotice } from '../../auth/revocations.js';
import { chooseConfigFile, ConfigError, loadCacheSettings } from '../../config/load.js';
import { parseDuration } from '../../config/units.js';
import { configFlag, type CliCommand } from '../command.js';

/**
 * revoke --user U [--ttl 24h] | --lift: writes (or removes) the user's revocation key in the
 * Redis every replica reads, then announces it so every replica's in-memory mirror changes at
 * once (a replica that misses the announcement catches up at its next full read,
 * `auth.revocation_resync`). Existing connections end at their next refresh; new connects are
 * refused at once.
 */
export const revokeCommand: CliCommand = {
  name: 'revoke',
  usage: 'revoke --user U [--ttl 24h] [--lift]',
  summary: 'revoke a user (connect refused, refresh expires); --lift undoes it',
  flags: { user: { type: 'string' }, ttl: { type: 'string' }, lift: { type: 'boolean' } },
  async run(flags, out) {
    const user = flags.user;
    if (typeof user !== 'string' || user === '') {
      out.error('revoke needs --user U (a user ID as it appears in the token)');
      return 2;
    }
    let ttlMs: number | undefined;
    if (typeof flags.ttl === 'string') {
      ttlMs = parseDuration(flags.ttl);
      if (ttlMs === undefined || ttlMs <= 0) {
        out.error(`--ttl: expected a duration like "30m" or "24h", got "${flags.ttl}"`);
        return 2;
      }
    }
    // Only the Redis settings: the rest of the service's config (caller secret, keys, policy
    // files) need not be valid or even present where an operator revokes someone.
    let loaded;
    try {
      loaded = loadCacheSettings(chooseConfigFile(configFlag(flags)));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const problem of err.problems) out.error(problem);
      return 1;
    }
    const { cache } = loaded;
    if (cache.redis_url === '') {
      out.error(`${loaded.file}: cache.redis_url: revocations live in Redis; set cache.redis_url (or REDIS_URL) first`);
      return 1;
    }
    const client = createRedis(cache.redis_url, { commandTimeoutMs: 5000, connectionName: 'centrifugo-policy-proxy-cli', queueWhileOffline: true });
    const store = new RedisStore(client, cache.key_prefix, pino({ level: 'silent' }));
    const key = revocationKey(store, user);
    try {
      const guard = AbortSignal.timeout(5000);
      const written = flags.lift ? client.del(key) : ttlMs ? client.set(key, '1', 'PX', ttlMs) : client.set(key, '1');
      const notice: RevocationNotice = { user, revoked: !flags.lift, ...(ttlMs && !flags.lift ? { ttl_ms: ttlMs } : {}) };
      const done = written.then(() => client.publish(revocationChannel(store), JSON.stringify(notice)));
      await Promise.race([done, new Promise((_, reject) => guard.addEventListener('abort', () => reject(new Error('no answer from Redis in 5s'))))]);
      if (flags.lift) out.log(`lifted revocation of user "${user}"`);
      else out.log(`revoked user "${user}" ${ttlMs ? `for ${flags.ttl}` : 'until lifted (revoke --user U --lift)'}`);
      return 0;
    } catch (err) {
      out.error(`cannot reach Redis at cache.redis_url: ${(err as Error).message}`);
      return 1;
    } finally {
      client.disconnect();
    }
  },
};
