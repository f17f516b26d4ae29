/**
 * The verified-token cache's two tiers without a Redis server: a fake RedisStore records each
 * key, value and TTL, so the key layout (fingerprint + digest), the TTLs, the counters and the
 * parsing of what Redis holds are checked exactly. Written for mutation testing (TESTING.md,
 * "Score: src/auth ... (mut3)"); test/integration/verified-tokens.test.ts covers a real Redis.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TieredVerifiedTokens } from '../../src/auth/verified-tokens.js';
import type { RedisStore } from '../../src/cache/redis-store.js';

interface FakeRedis {
  store: RedisStore;
  values: Map<string, string>;
  sets: Array<[string, string, string, number]>;
  gets: string[];
  /** The operation names given to attempt() (they label RedisStore's error counts and logs). */
  ops: string[];
}

function fakeRedis(): FakeRedis {
  const values = new Map<string, string>();
  const sets: FakeRedis['sets'] = [];
  const gets: string[] = [];
  const ops: string[] = [];
  const client = {
    get: async (key: string) => (gets.push(key), values.get(key) ?? null),
    set: async (key: string, value: string, mode: string, ttl: number) => (sets.push([key, value, mode, ttl]), values.set(key, value), 'OK'),
  };
  const store = {
    key: (...parts: string[]) => `p:${parts.join(':')}`,
    attempt: async (op: string, call: (c: typeof client) => Promise<unknown>) => (ops.push(op), call(client)),
  } as unknown as RedisStore;
  return { store, values, sets, gets, ops };
}

function counted() {
  const counts: string[] = [];
  return { counts, counters: { count: (tier: string, result: string) => void counts.push(`${tier} ${result}`) } };
}

const farExp = Math.floor(Date.now() / 1000) + 3600;

describe('verified-tokens: memory tier', () => {
  it('get/peek count hits and misses as documented', async () => {
    const { counts, counters } = counted();
    const tokens = new TieredVerifiedTokens('fp', undefined, counters);
    assert.equal(await tokens.get('d'), undefined);
    assert.equal(tokens.peek('d'), undefined);
    tokens.set('d', { user: 'u', roles: ['r'] }, 60_000);
    assert.deepEqual(await tokens.get('d'), { user: 'u', roles: ['r'] });
    assert.deepEqual(tokens.peek('d'), { user: 'u', roles: ['r'] });
    assert.deepEqual(counts, ['memory miss', 'memory hit', 'memory hit']);
  });

  it('an entry leaves the memory tier after its TTL', async () => {
    const tokens = new TieredVerifiedTokens('fp');
    tokens.set('d', { user: 'u', roles: [] }, 30);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(tokens.peek('d'), undefined);
  });
});

describe('verified-tokens: Redis tier', () => {
  it('writes under the fingerprint and digest with a whole, positive PX', async () => {
    const redis = fakeRedis();
    const tokens = new TieredVerifiedTokens('fp1', redis.store);
    tokens.set('dig', { user: 'u', roles: ['a'], expireAt: farExp }, 1500.6);
    tokens.set('tiny', { user: 'u', roles: [] }, 0.2);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(redis.sets, [
      ['p:t:fp1:dig', JSON.stringify({ user: 'u', roles: ['a'], expireAt: farExp }), 'PX', 1501],
      ['p:t:fp1:tiny', JSON.stringify({ user: 'u', roles: [] }), 'PX', 1],
    ]);
  });

  it('another replica with the same fingerprint reads it; another fingerprint does not', async () => {
    const redis = fakeRedis();
    new TieredVerifiedTokens('fp1', redis.store).set('dig', { user: 'u', roles: ['a'], expireAt: farExp, info: { n: 1 } }, 60_000);
    await new Promise((resolve) => setImmediate(resolve));
    const { counts, counters } = counted();
    const same = new TieredVerifiedTokens('fp1', redis.store, counters);
    assert.deepEqual(await same.get('dig'), { user: 'u', roles: ['a'], expireAt: farExp, info: { n: 1 } });
    assert.deepEqual(same.peek('dig'), { user: 'u', roles: ['a'], expireAt: farExp, info: { n: 1 } });
    const other = new TieredVerifiedTokens('fp2', redis.store, counters);
    assert.equal(await other.get('dig'), undefined);
    assert.deepEqual(redis.gets, ['p:t:fp1:dig', 'p:t:fp2:dig']);
    assert.deepEqual(redis.ops, ['token_set', 'token_get', 'token_get']);
    assert.deepEqual(counts, ['memory miss', 'redis hit', 'memory hit', 'memory miss', 'redis miss']);
  });

  it('a Redis hit is kept in memory until its exp only; without exp for a minute', async () => {
    const redis = fakeRedis();
    const soon = Math.floor(Date.now() / 1000) + 1;
    redis.values.set('p:t:fp:a', JSON.stringify({ user: 'u', roles: [], expireAt: soon }));
    redis.values.set('p:t:fp:b', JSON.stringify({ user: 'u', roles: [] }));
    const tokens = new TieredVerifiedTokens('fp', redis.store);
    assert.deepEqual(await tokens.get('a'), { user: 'u', roles: [], expireAt: soon });
    assert.deepEqual(await tokens.get('b'), { user: 'u', roles: [] });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, soon * 1000 - Date.now()) + 50));
    assert.equal(tokens.peek('a'), undefined);
    assert.deepEqual(tokens.peek('b'), { user: 'u', roles: [] });
  });

  it('a Redis hit with a distant exp stays in memory', async () => {
    const redis = fakeRedis();
    redis.values.set('p:t:fp:far', JSON.stringify({ user: 'u', roles: [], expireAt: farExp }));
    const tokens = new TieredVerifiedTokens('fp', redis.store);
    assert.deepEqual(await tokens.get('far'), { user: 'u', roles: [], expireAt: farExp });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(tokens.peek('far'), { user: 'u', roles: [], expireAt: farExp });
  });

  it('a Redis entry already past its exp is kept in memory for at most 1 ms', async () => {
    const redis = fakeRedis();
    redis.values.set('p:t:fp:old', JSON.stringify({ user: 'u', roles: [], expireAt: 1 }));
    const tokens = new TieredVerifiedTokens('fp', redis.store);
    assert.deepEqual(await tokens.get('old'), { user: 'u', roles: [], expireAt: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(tokens.peek('old'), undefined);
  });

  it('ignores what is not an identity, and keeps only string roles and known fields', async () => {
    const redis = fakeRedis();
    const cases: Record<string, unknown> = {
      a: 'not json{',
      b: JSON.stringify({ user: '', roles: [] }),
      c: JSON.stringify({ user: 5, roles: [] }),
      d: JSON.stringify({ user: 'u', roles: 'r' }),
      e: JSON.stringify({ user: 'u' }),
    };
    for (const [digest, text] of Object.entries(cases)) redis.values.set(`p:t:fp:${digest}`, text as string);
    redis.values.set('p:t:fp:ok', JSON.stringify({ user: 'u', roles: ['r', 3, null], expireAt: 'x', info: null, extra: 1 }));
    const tokens = new TieredVerifiedTokens('fp', redis.store);
    for (const digest of Object.keys(cases)) assert.equal(await tokens.get(digest), undefined, digest);
    assert.deepEqual(await tokens.get('ok'), { user: 'u', roles: ['r'], info: null });
  });
});
