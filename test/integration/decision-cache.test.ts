/**
 * The two-tier decision cache against the real Redis: sharing between instances, singleflight,
 * TTL, and a dead Redis costing misses only (never an error, never a wrong answer).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { Breaker } from '../../src/cache/breaker.js';
import { TieredDecisionCache } from '../../src/cache/decision-cache.js';
import { createRedis } from '../../src/cache/redis-connection.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { dropPrefix, REDIS_URL, redisClient, uniquePrefix } from '../helpers/redis.js';

const silent = pino({ level: 'silent' });
const stores: RedisStore[] = [];
const plain = redisClient();
const prefixes: string[] = [];

function storeAt(url: string, prefix: string, breaker?: Breaker): RedisStore {
  const client = createRedis(url, { commandTimeoutMs: 200 });
  client.on('error', () => undefined);
  const store = new RedisStore(client, prefix, silent, {}, breaker);
  stores.push(store);
  return store;
}

async function readyStoreAt(url: string, prefix: string): Promise<RedisStore> {
  const store = storeAt(url, prefix);
  assert.equal(await store.ready(2000), true, 'redis answers');
  return store;
}

function counting() {
  const counts: Record<string, number> = {};
  return { counts, counters: { count: (tier: string, result: string) => void (counts[`${tier}:${result}`] = (counts[`${tier}:${result}`] ?? 0) + 1) } };
}

after(async () => {
  for (const prefix of prefixes) await dropPrefix(plain, prefix);
  await Promise.all(stores.map((s) => s.close()));
  plain.disconnect();
});

describe('two-tier decision cache (real Redis)', () => {
  it('a decision computed by one instance is a Redis hit for another; denies are cached too', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const a = new TieredDecisionCache({ maxEntries: 100, ttlMs: 30_000, redis: await readyStoreAt(REDIS_URL, prefix) });
    const metered = counting();
    const b = new TieredDecisionCache({ maxEntries: 100, ttlMs: 30_000, redis: await readyStoreAt(REDIS_URL, prefix), counters: metered.counters });
    let computed = 0;
    const deny = () => (computed++, false);
    assert.deepEqual(await a.lookup('k1', deny), { allowed: false, tier: 'none' });
    // The write to Redis is not awaited by the answer; wait until it is there.
    for (let i = 0; i < 50 && (await plain.get(`${prefix}d:k1`)) === null; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await plain.get(`${prefix}d:k1`), '0');
    const ttl = await plain.pttl(`${prefix}d:k1`);
    assert.ok(ttl > 0 && ttl <= 30_000, `ttl ${ttl}`);
    assert.deepEqual(await b.lookup('k1', deny), { allowed: false, tier: 'redis' });
    assert.deepEqual(await b.lookup('k1', deny), { allowed: false, tier: 'memory' });
    assert.equal(computed, 1);
    assert.deepEqual(metered.counts, { 'memory:miss': 1, 'redis:hit': 1, 'memory:hit': 1 });
  });

  it('50 concurrent identical misses compute once', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const cache = new TieredDecisionCache({ maxEntries: 100, ttlMs: 30_000, redis: await readyStoreAt(REDIS_URL, prefix) });
    let computed = 0;
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.lookup('same', () => (computed++, true))));
    assert.equal(computed, 1);
    assert.ok(answers.every((a) => a.allowed));
  });

  it('Redis unreachable: every lookup is computed, none throws, and the breaker stops asking', async () => {
    let opened = 0;
    const breaker = new Breaker({ failures: 3, cooldownMs: 60_000, onStateChange: (s) => void (s === 'open' && opened++) });
    // Port 1 on loopback: connection refused at once.
    const store = storeAt('redis://127.0.0.1:1', uniquePrefix(), breaker);
    const cache = new TieredDecisionCache({ maxEntries: 100, ttlMs: 30_000, redis: store });
    for (let i = 0; i < 20; i++) {
      const answer = await cache.lookup(`key-${i}`, () => i % 2 === 0);
      assert.deepEqual(answer, { allowed: i % 2 === 0, tier: 'none' });
    }
    assert.equal(breaker.state, 'open');
    assert.equal(opened, 1);
  });
});

describe('breaker', () => {
  it('opens after N failures, lets one probe through after the cooldown, closes on success', () => {
    let clock = 0;
    const breaker = new Breaker({ failures: 2, cooldownMs: 1000, now: () => clock });
    assert.equal(breaker.allows(), true);
    breaker.failed();
    assert.equal(breaker.state, 'closed');
    breaker.failed();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allows(), false);
    clock = 1000;
    assert.equal(breaker.allows(), true, 'the probe');
    assert.equal(breaker.state, 'half_open');
    assert.equal(breaker.allows(), false, 'only one probe at a time');
    breaker.failed();
    assert.equal(breaker.state, 'open', 'a failed probe opens it again');
    clock = 2000;
    assert.equal(breaker.allows(), true);
    breaker.succeeded();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.allows(), true);
  });
});
