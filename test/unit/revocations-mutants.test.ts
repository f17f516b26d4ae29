/**
 * The revocation mirror (src/auth/revocations.ts) at its edges, without a Redis for the keys: a
 * fake RedisStore answers SCAN, PTTL and EXISTS from a table and records the SCAN pattern, the
 * operation names and deadlines given to attempt(), and the clock is a variable. Notices are fed
 * to the mirror's handler directly; one test sends them through a throwaway redis-server's
 * pub/sub to show the wiring (the channel the CLI publishes on). Written for mutation testing
 * (TESTING.md, "src/auth, the other three files"); test/integration/revocation.test.ts covers the
 * whole path with the CLI and a real Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Logger } from 'pino';
import { noRevocations, RedisRevocations, type RevocationNotice } from '../../src/auth/revocations.js';
import type { RedisStore } from '../../src/cache/redis-store.js';
import type { TraceContext } from '../../src/telemetry/tracing.js';
import { redisClient, startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis.js';

/** What PIPELINE ... exec() gives for one PTTL: [error, reply]. */
type Reply = [Error | null, unknown];

interface Fake {
  store: RedisStore;
  /** key → PTTL reply (ms; -1: no expiry), or a whole [error, reply] pair. */
  keys: Map<string, number | Reply>;
  /** [operation, trace, deadline] per attempt(). */
  attempts: Array<[string, TraceContext | undefined, number | undefined]>;
  patterns: string[];
  /** Every command sent through a pipeline. */
  pipelined: string[][];
  exists: string[];
  /** attempt() answers undefined, as RedisStore does when Redis is down. */
  down: boolean;
  /** When set, exec() answers this instead of one reply per key. */
  execReply?: Reply[] | null;
  /** When set, SCAN waits for this before answering (a read in progress). */
  gate?: Promise<void>;
}

function fakeRedis(prefix = 'p:'): Fake {
  const fake: Fake = { store: undefined as unknown as RedisStore, keys: new Map(), attempts: [], patterns: [], pipelined: [], exists: [], down: false };
  const client = {
    scan: async (_cursor: string, _match: string, pattern: string) => {
      fake.patterns.push(pattern);
      await fake.gate;
      return ['0', [...fake.keys.keys()]];
    },
    pipeline: (commands: string[][]) => ({
      exec: async () => {
        fake.pipelined.push(...commands);
        if (fake.execReply !== undefined) return fake.execReply;
        return commands.map(([, key]) => {
          const reply = fake.keys.get(key!)!;
          return Array.isArray(reply) ? reply : [null, reply];
        });
      },
    }),
    exists: async (key: string) => (fake.exists.push(key), fake.keys.has(key) ? 1 : 0),
  };
  fake.store = {
    key: (...parts: string[]) => prefix + parts.join(':'),
    attempt: async (operation: string, call: (c: typeof client) => Promise<unknown>, trace?: TraceContext, deadline?: number) => {
      fake.attempts.push([operation, trace, deadline]);
      return fake.down ? undefined : call(client);
    },
  } as unknown as RedisStore;
  return fake;
}

function recordingLog(): { log: Logger; warnings: unknown[][] } {
  const warnings: unknown[][] = [];
  const log = { warn: (...args: unknown[]) => void warnings.push(args) } as unknown as Logger;
  return { log, warnings };
}

interface Setup {
  fake: Fake;
  list: RedisRevocations;
  clock: { now: number };
  counts: number[];
  unknowns: number[];
  warnings: unknown[][];
  /** The handler of `{prefix}revocations` messages. */
  notice(message: RevocationNotice | string): void;
}

function setup(options: { prefix?: string; resyncMs?: number; redisUrl?: string } = {}): Setup {
  const fake = fakeRedis(options.prefix);
  const clock = { now: 1_000_000 };
  const counts: number[] = [];
  const unknowns: number[] = [];
  const { log, warnings } = recordingLog();
  const list = new RedisRevocations(fake.store, {
    redisUrl: options.redisUrl ?? 'redis://127.0.0.1:1',
    resyncMs: options.resyncMs ?? 60_000,
    log,
    now: () => clock.now,
    onUnknown: () => void unknowns.push(clock.now),
    onCount: (count) => void counts.push(count),
  });
  // The subscription's callback (private): what a message on the channel reaches.
  const handler = list as unknown as { received(text: string): void };
  const notice = (message: RevocationNotice | string) => handler.received(typeof message === 'string' ? message : JSON.stringify(message));
  return { fake, list, clock, counts, unknowns, warnings, notice };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } as unknown as TraceContext;

describe('revocations: without Redis', () => {
  it('noRevocations revokes nobody, both ways', async () => {
    assert.equal(await noRevocations.isRevoked('alice'), false);
    assert.equal(noRevocations.isRevokedNow?.('alice'), false);
  });
});

describe('revocations: the optional hooks', () => {
  it('without onUnknown and onCount, checks, reads and notices work the same', async () => {
    const fake = fakeRedis();
    const list = new RedisRevocations(fake.store, { redisUrl: 'redis://127.0.0.1:1', resyncMs: 60_000, log: recordingLog().log });
    fake.down = true;
    assert.equal(await list.isRevoked('alice'), false);
    fake.down = false;
    fake.keys.set('p:revoked:alice', -1);
    await list.resync();
    (list as unknown as { received(text: string): void }).received(JSON.stringify({ user: 'bob', revoked: true }));
    assert.equal(list.isRevokedNow('alice'), true);
    assert.equal(list.isRevokedNow('bob'), true);
  });

  it('stop before start is harmless', () => {
    const s = setup();
    s.list.stop();
  });
});

describe('revocations: before the first read, Redis is asked per check', () => {
  it('asks EXISTS on {prefix}revoked:{user} under the "revoked" operation with the trace', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:alice', -1);
    assert.equal(s.list.isRevokedNow('alice'), undefined);
    assert.equal(await s.list.isRevoked('alice', trace), true);
    assert.equal(await s.list.isRevoked('bob'), false);
    assert.deepEqual(s.fake.exists, ['p:revoked:alice', 'p:revoked:bob']);
    assert.deepEqual(s.fake.attempts, [
      ['revoked', trace, undefined],
      ['revoked', undefined, undefined],
    ]);
    assert.deepEqual(s.unknowns, []);
  });

  it('Redis down: not revoked, and counted as unknown once per check', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:alice', -1);
    s.fake.down = true;
    assert.equal(await s.list.isRevoked('alice'), false);
    assert.equal(await s.list.isRevoked('bob'), false);
    assert.deepEqual(s.unknowns, [1_000_000, 1_000_000]);
  });

  it('the empty user (anonymous) is never revoked and never asked about', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:', -1);
    assert.equal(s.list.isRevokedNow(''), false);
    assert.equal(await s.list.isRevoked(''), false);
    assert.deepEqual(s.fake.attempts, []);
  });

  it('notices before the first read are not kept (there is no mirror to apply them to)', async () => {
    const s = setup();
    s.notice({ user: 'alice', revoked: true });
    assert.equal(s.list.isRevokedNow('alice'), undefined);
    assert.deepEqual(s.counts, []);
  });
});

describe('revocations: the full read', () => {
  it('SCANs {prefix}revoked:* with no deadline, PTTLs each key and mirrors live ones', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:alice', -1);
    s.fake.keys.set('p:revoked:bob', 5000);
    s.fake.keys.set('p:revoked:gone', -2);
    s.fake.keys.set('p:revoked:failed', [new Error('LOADING'), 5000]);
    s.fake.keys.set('p:revoked:odd', [null, '5000']);
    s.fake.keys.set('p:revoked:a:b', 1);
    await s.list.resync();
    assert.deepEqual(s.fake.patterns, ['p:revoked:*']);
    assert.deepEqual(s.fake.pipelined, [...s.fake.keys.keys()].map((key) => ['pttl', key]));
    assert.deepEqual(s.fake.attempts, [['revocation_sync', undefined, 0]]);
    assert.deepEqual(s.counts, [3]);
    assert.deepEqual(s.warnings, []);
    for (const user of ['alice', 'bob', 'a:b']) assert.equal(s.list.isRevokedNow(user), true, user);
    for (const user of ['gone', 'failed', 'odd', 'carol']) assert.equal(s.list.isRevokedNow(user), false, user);
    // The mirror answers; Redis is not asked any more.
    assert.equal(await s.list.isRevoked('alice'), true);
    assert.equal(await s.list.isRevoked('carol'), false);
    assert.deepEqual(s.fake.exists, []);
    // A TTL counts from the read: revoked until read time + PTTL, not at that instant.
    s.clock.now = 1_000_000;
    assert.equal(s.list.isRevokedNow('a:b'), true);
    s.clock.now = 1_000_001;
    assert.equal(s.list.isRevokedNow('a:b'), false);
    s.clock.now = 1_004_999;
    assert.equal(s.list.isRevokedNow('bob'), true);
    s.clock.now = 1_005_000;
    assert.equal(s.list.isRevokedNow('bob'), false);
    assert.equal(s.list.isRevokedNow('alice'), true);
  });

  it('a pipeline without replies (or too few) mirrors nothing it cannot see', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:alice', -1);
    s.fake.keys.set('p:revoked:bob', -1);
    s.fake.execReply = null;
    await s.list.resync();
    assert.deepEqual(s.counts, [0]);
    assert.equal(s.list.isRevokedNow('alice'), false);
    s.fake.execReply = [[null, -1]];
    await s.list.resync();
    assert.deepEqual(s.counts, [0, 1]);
    assert.equal(s.list.isRevokedNow('alice'), true);
    assert.equal(s.list.isRevokedNow('bob'), false);
  });

  it('escapes the glob characters of the key prefix in MATCH, and cuts the raw prefix off', async () => {
    const prefix = 'a*b?c[d]e\\f:';
    const s = setup({ prefix });
    s.fake.keys.set(`${prefix}revoked:alice`, -1);
    await s.list.resync();
    assert.deepEqual(s.fake.patterns, ['a\\*b\\?c\\[d\\]e\\\\f:revoked:*']);
    assert.equal(s.list.isRevokedNow('alice'), true);
  });

  it('a new read replaces the mirror: keys gone from Redis are no longer revoked', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:alice', -1);
    await s.list.resync();
    s.fake.keys.clear();
    s.fake.keys.set('p:revoked:bob', -1);
    await s.list.resync();
    assert.equal(s.list.isRevokedNow('alice'), false);
    assert.equal(s.list.isRevokedNow('bob'), true);
    assert.deepEqual(s.counts, [1, 1]);
  });

  it('a failed read keeps the mirror; warnings say which case, at most one a minute', async () => {
    const s = setup();
    s.fake.down = true;
    await s.list.resync();
    assert.equal(s.list.isRevokedNow('alice'), undefined);
    assert.deepEqual(s.warnings, [['cannot read revocations from Redis yet; asking Redis per connect']]);
    s.fake.down = false;
    s.fake.keys.set('p:revoked:alice', -1);
    await s.list.resync();
    s.fake.down = true;
    s.fake.keys.clear();
    s.clock.now += 60_000;
    await s.list.resync();
    assert.equal(s.warnings.length, 1, 'exactly a minute after the last warning: still quiet');
    s.clock.now += 1;
    await s.list.resync();
    assert.deepEqual(s.warnings[1], ['cannot read revocations from Redis; the ones read last stay in force']);
    s.clock.now += 59_999;
    await s.list.resync();
    assert.equal(s.warnings.length, 2);
    s.clock.now += 2;
    await s.list.resync();
    assert.equal(s.warnings.length, 3);
    assert.equal(s.list.isRevokedNow('alice'), true);
    assert.deepEqual(s.counts, [1]);
  });
});

describe('revocations: notices', () => {
  it('revoke (until lifted or for ttl_ms) and lift, each followed by the new count', async () => {
    const s = setup();
    await s.list.resync();
    s.notice({ user: 'alice', revoked: true });
    s.notice({ user: 'bob', revoked: true, ttl_ms: 500 });
    s.notice({ user: 'zero', revoked: true, ttl_ms: 0 });
    s.notice({ user: 'negative', revoked: true, ttl_ms: -5 });
    s.notice(JSON.stringify({ user: 'text', revoked: true, ttl_ms: '500' }));
    assert.deepEqual(s.counts, [0, 1, 2, 3, 4, 5]);
    s.clock.now += 499;
    assert.equal(s.list.isRevokedNow('bob'), true);
    s.clock.now += 1;
    assert.equal(s.list.isRevokedNow('bob'), false);
    s.clock.now += 1e12;
    for (const user of ['alice', 'zero', 'negative', 'text']) assert.equal(s.list.isRevokedNow(user), true, user);
    s.notice({ user: 'alice', revoked: false });
    assert.equal(s.list.isRevokedNow('alice'), false);
    assert.deepEqual(s.counts, [0, 1, 2, 3, 4, 5, 4]);
  });

  it('ignores what is not a notice', async () => {
    const s = setup();
    await s.list.resync();
    for (const text of [
      'not json{',
      JSON.stringify({ user: 5, revoked: true }),
      JSON.stringify({ user: '', revoked: true }),
      JSON.stringify({ user: 'alice', revoked: 'true' }),
      JSON.stringify({ user: 'alice' }),
      JSON.stringify({ revoked: true }),
    ]) {
      s.notice(text);
      assert.equal(s.list.isRevokedNow('alice'), false, text);
    }
    assert.deepEqual(s.counts, [0]);
  });

  it('notices that arrive during a read are applied on top of what it read', async () => {
    const s = setup();
    s.fake.keys.set('p:revoked:alice', -1);
    await s.list.resync();
    let open!: () => void;
    s.fake.gate = new Promise<void>((resolve) => (open = resolve));
    s.fake.keys.set('p:revoked:bob', -1);
    const reading = s.list.resync();
    await sleep(1);
    s.notice({ user: 'alice', revoked: false });
    s.notice({ user: 'carol', revoked: true, ttl_ms: 1000 });
    assert.equal(s.list.isRevokedNow('alice'), false, 'applied to the current mirror at once');
    s.clock.now += 10;
    open();
    await reading;
    assert.equal(s.list.isRevokedNow('alice'), false, 'the read saw alice, the later lift wins');
    assert.equal(s.list.isRevokedNow('bob'), true);
    s.clock.now = 1_001_009;
    assert.equal(s.list.isRevokedNow('carol'), true, 'the TTL counts again from when the read ends');
    s.clock.now = 1_001_010;
    assert.equal(s.list.isRevokedNow('carol'), false);
    assert.deepEqual(s.counts, [1, 0, 1, 2]);
    // A notice announces a key the CLI wrote first: the next read, not the notice, is the truth.
    s.fake.gate = undefined;
    s.notice({ user: 'dave', revoked: true });
    await s.list.resync();
    assert.equal(s.list.isRevokedNow('dave'), false);
  });

  it('notices during the very first read are applied to it', async () => {
    const s = setup();
    let open!: () => void;
    s.fake.gate = new Promise<void>((resolve) => (open = resolve));
    const reading = s.list.resync();
    await sleep(1);
    s.notice({ user: 'alice', revoked: true });
    assert.equal(s.list.isRevokedNow('alice'), undefined);
    open();
    await reading;
    assert.equal(s.list.isRevokedNow('alice'), true);
    assert.deepEqual(s.counts, [1]);
  });
});

describe('revocations: start, the schedule and stop (throwaway redis-server for the subscription)', () => {
  let redis: ThrowawayRedis;
  before(async () => {
    redis = await startThrowawayRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('start subscribes to {prefix}revocations and reads; stop ends both', async () => {
    const s = setup({ prefix: 'mut9:', redisUrl: redis.url });
    await s.list.start();
    assert.deepEqual(s.fake.attempts, [['revocation_sync', undefined, 0]]);
    const publisher = redisClient(redis.url);
    try {
      // The subscribing connection names itself (CLIENT LIST tells an operator what it is).
      const clients = (await publisher.client('LIST')) as string;
      assert.match(clients, / name=centrifugo-policy-proxy-revocations /);
      await publisher.publish('mut9:revocations', JSON.stringify({ user: 'alice', revoked: true }));
      await publisher.publish('other', JSON.stringify({ user: 'bob', revoked: true }));
      for (let i = 0; i < 100 && s.list.isRevokedNow('alice') !== true; i++) await sleep(10);
      assert.equal(s.list.isRevokedNow('alice'), true);
      assert.equal(s.list.isRevokedNow('bob'), false);
      s.list.stop();
      await sleep(20);
      await publisher.publish('mut9:revocations', JSON.stringify({ user: 'carol', revoked: true }));
      await sleep(100);
      assert.equal(s.list.isRevokedNow('carol'), false, 'no notices after stop');
    } finally {
      s.list.stop();
      publisher.disconnect();
    }
  });

  it('reads again every resync interval, and not after stop (even when stopped mid-read)', async () => {
    const s = setup({ redisUrl: redis.url, resyncMs: 40 });
    await s.list.start();
    try {
      await sleep(300);
      const reads = s.fake.attempts.length;
      assert.ok(reads >= 3 && reads <= 9, `reads every 40 ms: ${reads} in 300 ms`);
      let open!: () => void;
      s.fake.gate = new Promise<void>((resolve) => (open = resolve));
      const before = s.fake.attempts.length;
      for (let i = 0; i < 100 && s.fake.attempts.length === before; i++) await sleep(5);
      s.list.stop();
      open();
      await sleep(150);
      assert.equal(s.fake.attempts.length, before + 1, 'no read after stop');
    } finally {
      s.list.stop();
    }
  });

  it('with a mirror, the next read waits the whole interval, even one above a second', async () => {
    const s = setup({ redisUrl: redis.url, resyncMs: 1500 });
    await s.list.start();
    try {
      await sleep(1200);
      assert.equal(s.fake.attempts.length, 1);
    } finally {
      s.list.stop();
    }
  });

  it('until a read succeeds, Redis is read again every second however long the interval', async () => {
    const s = setup({ redisUrl: redis.url, resyncMs: 60_000 });
    s.fake.down = true;
    const started = performance.now();
    await s.list.start();
    try {
      assert.equal(s.fake.attempts.length, 1);
      // Polled rather than slept: a loaded machine fires timers late, never early.
      const untilReads = async (n: number) => {
        for (let i = 0; i < 300 && s.fake.attempts.length < n; i++) await sleep(10);
        assert.equal(s.fake.attempts.length, n);
      };
      await untilReads(2);
      assert.ok(performance.now() - started >= 950, 'a second after the first read');
      s.fake.down = false;
      await untilReads(3);
      await sleep(300);
      assert.equal(s.fake.attempts.length, 3, 'then the whole interval');
      assert.equal(s.list.isRevokedNow('alice'), false, 'the read that worked made the mirror');
    } finally {
      s.list.stop();
    }
  });
});
