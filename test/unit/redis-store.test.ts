/**
 * A Redis call is bounded as a whole by the connection's command timeout, on a single node and
 * on a cluster alike: a cluster client retrying a command across a failover (each try with its
 * own timeout) must still come back as a miss within the decision's budget.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { RedisStore } from '../../src/cache/redis-store.js';

const never = () => new Promise<string>(() => undefined);
const settled = <T>(work: Promise<T>, ms: number) => Promise.race([work.then((value) => ({ value })), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

const clients = {
  single: () => new Redis({ lazyConnect: true, commandTimeout: 40 }),
  cluster: () => new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, redisOptions: { commandTimeout: 40 } }),
};

describe('RedisStore.attempt deadline', () => {
  for (const [kind, make] of Object.entries(clients)) {
    it(`${kind}: a call that never answers is a miss after the command timeout, counted as a failure`, async () => {
      const errors: string[] = [];
      const store = new RedisStore(make(), 'p:', pino({ level: 'silent' }), { onError: (op) => errors.push(op) });
      const started = Date.now();
      assert.deepEqual(await settled(store.attempt('get', never), 1000), { value: undefined });
      const took = Date.now() - started;
      assert.ok(took >= 35 && took < 500, `took ${took} ms`);
      assert.deepEqual(errors, ['get']);
      // A caller that knows its call is long (the revocation scan) asks for no overall deadline.
      assert.equal(await settled(store.attempt('revocation_sync', never, undefined, 0), 150), 'pending');
      await store.close();
    });
  }
});
