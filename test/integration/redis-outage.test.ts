/**
 * Two service instances on one throwaway redis-server: they share cached decisions, and when
 * Redis is killed in the middle of a load run and started again, no request fails, every
 * decision stays what the policy says, and the shared cache comes back by itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PolicyQuery } from '../../src/policy/engine.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { redisClient, startThrowawayRedis, uniquePrefix, type ThrowawayRedis } from '../helpers/redis.js';

const ALLOW = '{"result":{}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const USERS = ['1', '2', '3', '56', '666'];
const ROLE_SETS = [[], ['role:member'], ['role:guest'], ['role:admin']];
const CHANNELS = ['chat:lobby', 'chat:room1', 'news:today', 'personal:1', 'personal:56', 'secret:x', 'chat:archive:2020'];

function subscribeBody(user: string, roles: string[], channel: string): string {
  return JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, meta: { roles } });
}

/** Deterministic request mix: request i always asks the same question. */
function requestAt(i: number): PolicyQuery & { roles: string[] } {
  return {
    user: USERS[i % USERS.length] as string,
    roles: ROLE_SETS[Math.floor(i / USERS.length) % ROLE_SETS.length] as string[],
    action: 'subscribe',
    object: CHANNELS[Math.floor(i / 7) % CHANNELS.length] as string,
  };
}

async function counter(h: Harness, tier: string, result: string): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  const match = new RegExp(`^cpp_cache_requests_total\\{tier="${tier}",result="${result}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('Redis shared by two instances, killed mid-load', () => {
  let redis: ThrowawayRedis;
  let a: Harness;
  let b: Harness;
  const prefix = uniquePrefix();

  before(async () => {
    redis = await startThrowawayRedis();
    // A small in-process tier (max 1 entry) so most lookups reach Redis.
    const yaml = testConfigYaml(`cache: { redis_url: "${redis.url}", key_prefix: "${prefix}", max_entries: 1, redis_timeout: 100ms }`);
    a = await startHarness(yaml);
    b = await startHarness(yaml);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('a decision made by one instance is a Redis hit on the other', async () => {
    const body = subscribeBody('56', ['role:member'], 'chat:shared');
    assert.equal((await a.http('/centrifugo/subscribe', body)).body, ALLOW);
    const client = redisClient(redis.url);
    try {
      for (let i = 0; i < 100 && (await client.dbsize()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await client.dbsize(), 1);
    } finally {
      client.disconnect();
    }
    const before = await counter(b, 'redis', 'hit');
    assert.equal((await b.http('/centrifugo/subscribe', body)).body, ALLOW);
    assert.equal(await counter(b, 'redis', 'hit'), before + 1);
  });

  it('1,500 requests over both instances and transports while Redis dies and returns: 0 failures, 0 wrong answers', async () => {
    const total = 1500;
    const concurrency = 16;
    let next = 0;
    const wrong: string[] = [];
    const engine = a.app.policy.current();
    const worker = async () => {
      while (next < total) {
        const i = next++;
        if (i === 300) await redis.kill();
        if (i === 900) await redis.restart();
        const q = requestAt(i);
        const expected = engine.decide(q) ? ALLOW : DENY;
        const h = i % 2 === 0 ? a : b;
        const body = subscribeBody(q.user, q.roles, q.object);
        let got: string;
        if (i % 3 === 0) {
          got = JSON.stringify(grpcToJson(await h.call('Subscribe', jsonToGrpcRequest(body))));
        } else {
          const response = await h.http('/centrifugo/subscribe', body);
          assert.equal(response.status, 200);
          got = response.body;
        }
        if (got !== expected) wrong.push(`#${i} ${JSON.stringify(q)}: ${got}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    assert.deepEqual(wrong, []);

    // The cache comes back by itself: new decisions reach the restarted Redis again.
    const client = redisClient(redis.url);
    try {
      let size = 0;
      for (let i = 0; i < 100 && size === 0; i++) {
        await a.http('/centrifugo/subscribe', subscribeBody(`late-${i}`, [], 'news:late'));
        size = await client.dbsize();
        if (size === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(size > 0, 'decisions are written to Redis again after it restarts');
    } finally {
      client.disconnect();
    }
    const errors = /^cpp_redis_errors_total\{operation="get"\} (\d+)$/m.exec(await (await fetch(`${a.httpUrl}/metrics`)).text());
    assert.ok(errors && Number(errors[1]) > 0, 'the outage was seen and counted');
  });
});
