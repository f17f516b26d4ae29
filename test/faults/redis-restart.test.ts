/**
 * Redis killed and started again under mixed load on the real process (`serve`): decisions,
 * verified tokens and revocations all use Redis, yet no request fails and every answer stays
 * what the policy says. test/integration/redis-outage.test.ts covers two in-process instances
 * sharing the cache; this case covers every event and the served process.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { startEchoUpstream } from '../helpers/echo-upstream.js';
import { ROOT } from '../helpers/harness.js';
import { loadClient, mixed, runLoad, warmUp } from '../helpers/load.js';
import { redisClient, startThrowawayRedis, uniquePrefix } from '../helpers/redis.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { trafficCase, trafficConfigYaml } from '../helpers/traffic.js';

const redisErrors = async (httpPort: number): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return [...text.matchAll(/^cpp_redis_errors_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
};

describe('fault: Redis killed and restarted under load', () => {
  const cleanup: Array<() => unknown> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('0 failed and 0 wrong answers while Redis is down and after it returns', async () => {
    const redis = await startThrowawayRedis();
    cleanup.push(() => redis.stop());
    const upstream = await startEchoUpstream();
    cleanup.push(() => upstream.close());
    // A one-entry in-process tier, so nearly every lookup goes to Redis.
    const proc = await startServeProcess(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "", watch: false }
cache: { redis_url: "${redis.url}", key_prefix: "${uniquePrefix()}", max_entries: 1, redis_timeout: 100ms }
log: { level: info }
${trafficConfigYaml(upstream.url)}`);
    cleanup.push(proc.kill);
    const client = loadClient(proc.httpPort, proc.grpcPort);
    cleanup.push(() => client.close());

    // Users repeat (300 of them) so Redis holds decisions and verified tokens to be hit.
    const send = mixed(client, (i) => trafficCase(i, 300));
    await warmUp(client, (i) => trafficCase(10_000 + i));
    const report = await runLoad('Redis killed and restarted', {
      total: 2400,
      concurrency: 16,
      request: send,
      at: async (i) => {
        if (i === 600) await redis.kill();
        if (i === 1500) await redis.restart();
      },
    });
    assert.deepEqual({ failed: report.failed, wrong: report.wrong }, { failed: 0, wrong: 0 }, report.examples.join('\n'));
    assert.ok((await redisErrors(proc.httpPort)) > 0, 'the outage was seen (cpp_redis_errors_total)');

    // The cache comes back by itself: decisions reach the restarted Redis again.
    const check = redisClient(redis.url);
    cleanup.push(() => check.disconnect());
    let size = 0;
    for (let i = 0; i < 100 && size === 0; i++) {
      assert.equal(await send(100_000 + i), 'ok');
      size = await check.dbsize();
      if (size === 0) await sleep(100);
    }
    assert.ok(size > 0, 'decisions are written to Redis again after it restarts');
  });
});
