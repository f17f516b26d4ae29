/**
 * ReplicaSync on the real Redis pub/sub, with the policy store faked: which reloads are
 * announced and with what bytes, how an announcement is answered (the store's reload reason,
 * the mismatch callback, the log line), and the mismatch clearing when the files catch up.
 * Written for mutation testing (TESTING.md, "policy-store, replica-sync, disagreements");
 * policy-announce.test.ts covers two served replicas end to end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { RedisStore } from '../../src/cache/redis-store.js';
import type { PolicyStore, ReloadOutcome } from '../../src/policy/policy-store.js';
import { ReplicaSync } from '../../src/policy/replica-sync.js';
import { redisClient, REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const ANNOUNCED = 'announced by another replica';

/** A logger whose lines are kept as parsed JSON (time and pid dropped). */
function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

const publisher = redisClient();
after(() => publisher.quit());

/** A replica with a fake policy store (its next reload outcome set by the test) on a fresh prefix. */
function replica() {
  const prefix = uniquePrefix();
  const listeners: Array<(outcome: ReloadOutcome, reason: string) => void> = [];
  const reasons: string[] = [];
  const state = { next: { result: 'unchanged', version: 'v1' } as ReloadOutcome };
  const store = {
    onReload: (listener: (outcome: ReloadOutcome, reason: string) => void) => void listeners.push(listener),
    reload: async (reason: string) => (reasons.push(reason), state.next),
  } as unknown as PolicyStore;
  const published: Array<[string, string, string]> = [];
  const redis = {
    key: (...parts: string[]) => `${prefix}${parts.join(':')}`,
    attempt: async (op: string, call: (client: { publish: (channel: string, text: string) => Promise<number> }) => Promise<unknown>) =>
      call({ publish: (channel, text) => (published.push([op, channel, text]), publisher.publish(channel, text)) }),
  } as unknown as RedisStore;
  const { log, lines } = captured();
  const mismatches: boolean[] = [];
  const sync = new ReplicaSync(store, redis, REDIS_URL, log, (mismatch) => void mismatches.push(mismatch));
  /** What the store's own reloads tell the listeners. */
  const reloaded = (outcome: ReloadOutcome, reason: string) => listeners.forEach((listener) => listener(outcome, reason));
  return { sync, state, reasons, published, lines, mismatches, reloaded, channel: `${prefix}policy` };
}

type Replica = ReturnType<typeof replica>;

async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Publishes the texts in order, then waits until the replica has answered `answers` announcements in all. */
async function announce(r: Replica, texts: string[], answers: number): Promise<void> {
  for (const text of texts) await publisher.publish(r.channel, text);
  await eventually(() => r.mismatches.length >= answers);
  assert.equal(r.mismatches.length, answers);
}

const message = (instance: string, version: unknown) => JSON.stringify({ instance, version });

describe('ReplicaSync', () => {
  const started: Replica[] = [];
  let r: Replica;
  before(async () => {
    await publisher.ping();
  });
  after(() => started.forEach((one) => one.sync.stop()));

  async function startedReplica(): Promise<Replica> {
    const one = replica();
    started.push(one);
    await one.sync.start();
    return one;
  }

  it('subscribes on <prefix>policy with its own connection name', async () => {
    r = await startedReplica();
    const clients = (await publisher.client('LIST')) as string;
    assert.match(clients, /name=centrifugo-policy-proxy-policy-sync /);
    assert.deepEqual(await publisher.pubsub('NUMSUB', r.channel), [r.channel, 1]);
  });

  it('announces a version its own files loaded, as {"instance","version"} JSON, and nothing else', async () => {
    r = await startedReplica();
    r.reloaded({ result: 'unchanged', version: 'v1' }, 'files changed');
    r.reloaded({ result: 'failed', error: 'bad', version: 'v1' }, 'files changed');
    r.reloaded({ result: 'loaded', version: 'v9' }, ANNOUNCED);
    r.reloaded({ result: 'loaded', version: 'v2' }, 'files changed');
    await eventually(() => r.published.length > 0);
    assert.deepEqual(r.published, [['publish', r.channel, `{"instance":"${r.sync.instance}","version":"v2"}`]]);
    // Its own announcement comes back on the channel and is not answered.
    await announce(r, [message('other', 'v1')], 1);
    assert.deepEqual(r.reasons, [ANNOUNCED]);
    assert.deepEqual(r.lines, [{ level: 30, policy_version: 'v1', msg: 'policy version matches the announcing replica' }]);
  });

  it('ignores text that is not JSON, its own instance and a version that is not a string', async () => {
    r = await startedReplica();
    await announce(r, ['not json', message(r.sync.instance, 'v7'), message('other', 7), JSON.stringify({ instance: 'other' }), message('other', 'v1')], 1);
    assert.deepEqual(r.reasons, [ANNOUNCED]);
    assert.deepEqual(r.mismatches, [false]);
  });

  it('another version than its files give: mismatch reported and logged, with the reload error when it failed', async () => {
    r = await startedReplica();
    r.state.next = { result: 'unchanged', version: 'v1' };
    await announce(r, [message('peer-a', 'v2')], 1);
    r.state.next = { result: 'failed', error: 'policy.csv:3: bad', version: 'v1' };
    await announce(r, [message('peer-b', 'v3')], 2);
    assert.deepEqual(r.mismatches, [true, true]);
    assert.deepEqual(r.reasons, [ANNOUNCED, ANNOUNCED]);
    const text = 'another replica loaded a policy version these files do not give: check that every replica has the same policy files';
    assert.deepEqual(r.lines, [
      { level: 40, announced_version: 'v2', policy_version: 'v1', replica: 'peer-a', msg: text },
      { level: 40, announced_version: 'v3', policy_version: 'v1', replica: 'peer-b', error: 'policy.csv:3: bad', msg: text },
    ]);
  });

  it('files that catch up with the announced version clear the mismatch; other versions do not', async () => {
    r = await startedReplica();
    await announce(r, [message('peer', 'v2')], 1);
    r.reloaded({ result: 'loaded', version: 'v5' }, 'files changed');
    r.reloaded({ result: 'loaded', version: 'v2' }, ANNOUNCED);
    assert.deepEqual(r.mismatches, [true]);
    r.reloaded({ result: 'loaded', version: 'v2' }, 'files changed');
    assert.deepEqual(r.mismatches, [true, false]);
    assert.deepEqual(r.lines.at(-1), { level: 30, policy_version: 'v2', msg: 'policy files caught up with the version another replica announced' });
    // Caught up once: the same version loaded again is not another catch-up.
    r.reloaded({ result: 'loaded', version: 'v2' }, 'files changed');
    assert.deepEqual(r.mismatches, [true, false]);
  });

  it('a match forgets an earlier mismatch', async () => {
    r = await startedReplica();
    await announce(r, [message('peer', 'v2')], 1);
    r.state.next = { result: 'loaded', version: 'v3' };
    await announce(r, [message('peer', 'v3')], 2);
    assert.deepEqual(r.mismatches, [true, false]);
    r.reloaded({ result: 'loaded', version: 'v2' }, 'files changed');
    assert.deepEqual(r.mismatches, [true, false]);
  });

  it('stop ends the subscription; stop before start does nothing', async () => {
    replica().sync.stop();
    r = await startedReplica();
    r.sync.stop();
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && ((await publisher.pubsub('NUMSUB', r.channel)) as [string, number])[1] !== 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(await publisher.pubsub('NUMSUB', r.channel), [r.channel, 0]);
  });
});
