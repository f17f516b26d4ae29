/**
 * Cached decisions never outlive the policy that made them: two instances share one Redis; after
 * the policy file changes and both reload, both answer from the new policy at once, although
 * the old answers are still in Redis (their keys carry the old policy version).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, startHarness, type Harness } from '../helpers/harness.js';
import { dropPrefix, REDIS_URL, redisClient, uniquePrefix } from '../helpers/redis.js';

const ALLOW = '{"result":{}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:lobby', meta: { roles: ['role:member'] } });

describe('policy reload with a shared Redis cache', () => {
  const prefix = uniquePrefix();
  const redis = redisClient();
  const harnesses: Harness[] = [];
  after(async () => {
    await Promise.all(harnesses.map((h) => h.stop()));
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('a reload on both instances changes both answers at once; old keys stay but are never read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-reload-'));
    copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
    const original = readFileSync(join(ROOT, 'policies/policy.csv'), 'utf8');
    writeFileSync(join(dir, 'policy.csv'), original);
    const yaml = `
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${dir}/model.conf, policy: ${dir}/policy.csv, tests: "", watch: false }
cache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}" }
log: { level: silent }
`;
    const a = await startHarness(yaml);
    const b = await startHarness(yaml);
    harnesses.push(a, b);
    assert.equal((await a.http('/centrifugo/subscribe', body)).body, ALLOW);
    assert.equal((await b.http('/centrifugo/subscribe', body)).body, ALLOW);
    const oldVersion = a.app.policy.current().version;
    for (let i = 0; i < 100 && (await redis.keys(`${prefix}d:*`)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await redis.keys(`${prefix}d:*`)).length, 1);

    writeFileSync(join(dir, 'policy.csv'), `${original}\np, role:member, chat:lobby, subscribe, deny\n`);
    await Promise.all([a.app.policy.load(), b.app.policy.load()]);
    assert.notEqual(a.app.policy.current().version, oldVersion);
    assert.equal(a.app.policy.current().version, b.app.policy.current().version);
    assert.equal((await a.http('/centrifugo/subscribe', body)).body, DENY);
    assert.equal((await b.http('/centrifugo/subscribe', body)).body, DENY);
    const keys = await redis.keys(`${prefix}d:*`);
    assert.ok(keys.some((k) => k.includes(oldVersion)), 'the old answer is still in Redis, under the old version');
  });
});
