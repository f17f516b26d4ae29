/**
 * The Redis tier of the verified-token cache: a token verified by one replica is not verified
 * again by another with the same settings, and replicas with other settings never share.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { JwtAuthenticator } from '../../src/auth/jwt-authenticator.js';
import { createRedis } from '../../src/cache/redis-connection.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { configSchema } from '../../src/config/schema.js';
import type { ConnectRequest } from '../../src/core/messages.js';
import { connectWithToken, jwkOf, rs256With, startJwksServer, type JwksServer } from '../helpers/more-tokens.js';
import { dropPrefix, REDIS_URL, redisClient, uniquePrefix } from '../helpers/redis.js';
import { nowSeconds, rsa } from '../helpers/tokens.js';

const prefix = uniquePrefix();
const plain = redisClient();
const stores: RedisStore[] = [];
let idp: JwksServer;

/** Each replica's verified-token lookups, "tier result" → count. */
type Counts = Map<string, number>;

async function replica(jwt: Record<string, unknown>, counts: Counts = new Map()): Promise<JwtAuthenticator> {
  const client = createRedis(REDIS_URL, { commandTimeoutMs: 200 });
  const store = new RedisStore(client, prefix, pino({ level: 'silent' }));
  stores.push(store);
  assert.equal(await store.ready(2000), true);
  const counters = { count: (tier: string, result: string) => counts.set(`${tier} ${result}`, (counts.get(`${tier} ${result}`) ?? 0) + 1) };
  return new JwtAuthenticator(configSchema.parse({ auth: { jwt: { jwks_url: idp.url, ...jwt } } }).auth, Date.now, undefined, store, undefined, counters);
}

const request = (token: string): ConnectRequest => connectWithToken(token);

after(async () => {
  await dropPrefix(plain, prefix);
  plain.disconnect();
  await Promise.all(stores.map((s) => s.close()));
  await idp?.close();
});

describe('verified-token cache, Redis tier', () => {
  it('a token verified on one replica is accepted on another without verifying (no JWKS fetch there)', async () => {
    idp = await startJwksServer({ keys: [jwkOf(rsa.publicKey, 'rsa-1', 'RS256')] });
    const token = rs256With(rsa.privateKey, 'rsa-1', { sub: '56', roles: ['role:member'], exp: nowSeconds() + 600 });
    const aCounts: Counts = new Map();
    const a = await replica({}, aCounts);
    const first = await a.authenticate(request(token));
    assert.equal(first.kind, 'authenticated');
    assert.equal(idp.hits, 1);
    // The write is not awaited by the answer: wait until it is in Redis.
    for (let i = 0; i < 100 && (await plain.keys(`${prefix}t:*`)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const [key] = await plain.keys(`${prefix}t:*`);
    assert.ok(key, 'stored under the prefix');
    const ttl = await plain.pttl(key);
    assert.ok(ttl > 590_000 && ttl <= 600_000, `ttl follows exp: ${ttl}`);

    assert.deepEqual([...aCounts], [['memory miss', 1], ['redis miss', 1]], 'replica A: a miss in both tiers');

    const bCounts: Counts = new Map();
    const b = await replica({}, bCounts);
    assert.deepEqual(await b.authenticate(request(token)), first);
    assert.equal(idp.hits, 1, 'replica B did not need the keys: it did not verify');
    assert.deepEqual(await b.authenticate(request(token)), first);
    assert.deepEqual([...bCounts], [['memory miss', 1], ['redis hit', 1], ['memory hit', 1]], 'replica B: a Redis hit, then a memory hit');

    const other = await replica({ audience: 'another-audience' });
    const refused = await other.authenticate(request(token));
    assert.equal(refused.kind, 'invalid', 'other settings verify for themselves (and refuse: no aud claim)');
  });
});
