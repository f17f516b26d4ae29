/**
 * rate_limits counted in the real Redis: the Lua script answers exactly as the in-process
 * arithmetic does; two service instances share one limit; M concurrent requests over both
 * instances and transports get exactly N through; a Redis that dies lets requests through
 * (fail open, counted) and limits apply again once it is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createRedis } from '../../src/cache/redis-connection.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { MemoryCounter } from '../../src/ratelimit/counter.js';
import { RedisCounter } from '../../src/ratelimit/redis-counter.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { dropPrefix, REDIS_URL, redisClient, startThrowawayRedis, uniquePrefix, type ThrowawayRedis } from '../helpers/redis.js';

const PUBLISHED = '{"result":{}}';
const TOO_MANY = '{"error":{"code":429,"message":"too many requests","temporary":true}}';
const T0 = Date.UTC(2030, 0, 1);

const publish = (user: string, channel = 'chat:room') =>
  JSON.stringify({ client: `c-${user}`, transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, data: {}, meta: { roles: ['role:member'] } });

async function send(h: Harness, body: string, grpc: boolean): Promise<string> {
  if (grpc) return JSON.stringify(grpcToJson(await h.call('Publish', jsonToGrpcRequest(body))));
  const response = await h.http('/centrifugo/publish', body);
  assert.equal(response.status, 200);
  return response.body;
}

async function metric(h: Harness, line: string): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').at(-1)) : 0;
}

const plain = redisClient();
const prefix = uniquePrefix();
after(async () => {
  await dropPrefix(plain, prefix);
  plain.disconnect();
});

describe('rate limit counts in Redis', () => {
  it('the Lua script answers every call exactly as the in-process arithmetic (random times and limits)', async () => {
    const clock = { now: T0 };
    const store = new RedisStore(createRedis(REDIS_URL, { commandTimeoutMs: 500 }), `${prefix}diff:`, pino({ level: 'silent' }));
    try {
      assert.equal(await store.ready(2000), true);
      const redis = new RedisCounter(store, () => clock.now);
      const memory = new MemoryCounter(() => clock.now);
      // A seeded walk: reproducible, and it crosses many window boundaries with gaps of every size.
      let seed = 14;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      const differences: string[] = [];
      const outcomes = { true: 0, false: 0, undefined: 0 };
      for (let i = 0; i < 600; i++) {
        clock.now += Math.floor(random() * (random() < 0.05 ? 4000 : 150));
        const [key, windowMs, limit] = random() < 0.5 ? ['k1', 1000, 3] : ['k2', 2500, 7];
        const [fromRedis, fromMemory] = [await redis.take(key, windowMs, limit), await memory.take(key, windowMs, limit)];
        outcomes[String(fromRedis) as keyof typeof outcomes] += 1;
        if (fromRedis !== fromMemory) differences.push(`#${i} ${key} at +${clock.now - T0} ms: redis ${fromRedis}, memory ${fromMemory}`);
      }
      assert.deepEqual(differences, []);
      assert.ok(outcomes.true > 100 && outcomes.false > 100 && outcomes.undefined === 0, `a mix of answers: ${JSON.stringify(outcomes)}`);
      // One hash per limit and subject, kept two windows at most.
      const ttl = await plain.pttl(`${prefix}diff:rl:k2`);
      assert.ok(ttl > 0 && ttl <= 5000, `pttl ${ttl}`);
    } finally {
      await store.close();
    }
  });
});

describe('two instances sharing one Redis', () => {
  let a: Harness;
  let b: Harness;
  const clock = { now: T0 };

  before(async () => {
    // A fixed clock: the burst below cannot straddle a window boundary.
    const yaml = testConfigYaml(`
cache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}", redis_timeout: 500ms }
rate_limits: { publish: [ { channel: "chat:*", limit: 10, window: 1m } ] }`);
    a = await startHarness(yaml, { now: () => clock.now });
    b = await startHarness(yaml, { now: () => clock.now });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('share one limit: alternating instances, the 11th publish is refused on either', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 12; i++) answers.push(await send(i % 2 === 0 ? a : b, publish('shared'), i % 3 === 0));
    assert.deepEqual(answers, [...Array(10).fill(PUBLISHED), TOO_MANY, TOO_MANY]);
  });

  it('100 concurrent publishes by one user over both instances and transports: exactly 10 allowed', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => send(i % 2 === 0 ? a : b, publish('burst'), i % 4 < 2)));
    assert.equal(answers.filter((x) => x === PUBLISHED).length, 10);
    assert.equal(answers.filter((x) => x === TOO_MANY).length, 90);
    assert.equal((await metric(a, 'cpp_rate_limited_total{action="publish"}')) + (await metric(b, 'cpp_rate_limited_total{action="publish"}')), 92);
  });
});

describe('Redis down: fail open', () => {
  let redis: ThrowawayRedis;
  let h: Harness;

  before(async () => {
    redis = await startThrowawayRedis();
    h = await startHarness(
      testConfigYaml(`
cache: { redis_url: "${redis.url}", redis_timeout: 100ms }
rate_limits: { publish: [ { limit: 2, window: 1m } ] }`),
    );
  });
  after(async () => {
    await h?.stop();
    await redis?.stop();
  });

  it('limits apply; with Redis killed every publish goes through and is counted as fail-open; after a restart limits apply again', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send(h, publish('56'), i === 1));
    assert.deepEqual(answers, [PUBLISHED, PUBLISHED, TOO_MANY]);

    await redis.kill();
    for (let i = 0; i < 10; i++) assert.equal(await send(h, publish('56'), i % 2 === 1), PUBLISHED, `publish ${i} while Redis is down`);
    assert.equal(await metric(h, 'cpp_rate_limit_fail_open_total{action="publish",reason="redis"}'), 10);

    await redis.restart();
    // The breaker probes again after its cooldown (2 s); then the fresh Redis counts from zero.
    const deadline = Date.now() + 10_000;
    let last = '';
    while (Date.now() < deadline && last !== TOO_MANY) {
      last = await send(h, publish('57'), false);
      if (last !== TOO_MANY) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(last, TOO_MANY, 'limited again once Redis is back');
  });
});
