/**
 * Rate limits without a network: the sliding-window arithmetic and its boundaries, the
 * in-process counter, rule matching, where the client address comes from, fail-open, and the
 * config errors an operator sees.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { MemoryCounter, type WindowCounter } from '../../src/ratelimit/counter.js';
import { clientAddress, SlidingWindowLimits, type LimitedAction } from '../../src/ratelimit/rate-limits.js';
import { compileRules } from '../../src/ratelimit/rules.js';
import { takeSlot, type WindowState } from '../../src/ratelimit/sliding-window.js';
import { ROOT, testConfigYaml } from '../helpers/harness.js';

/** Replays calls at the given times; returns which were allowed. */
function replay(times: number[], windowMs: number, limit: number): boolean[] {
  let state: WindowState | undefined;
  return times.map((now) => {
    const take = takeSlot(state, now, windowMs, limit);
    state = take.state;
    return take.allowed;
  });
}

const T0 = 1_000_000_000_000; // a multiple of every window below: t0 opens a fixed window

describe('sliding window (two counters)', () => {
  it('allows exactly `limit` in one window and refuses the next', () => {
    assert.deepEqual(replay([T0, T0 + 1, T0 + 2, T0 + 3], 10_000, 3), [true, true, true, false]);
  });

  it('a refused request takes no slot: the count stays at the limit', () => {
    const full = takeSlot({ window: T0 / 10_000, current: 3, previous: 0 }, T0 + 5, 10_000, 3);
    assert.deepEqual(full, { allowed: false, state: { window: T0 / 10_000, current: 3, previous: 0 } });
  });

  it('the previous window weighs by its overlap: 10 last window, limit 10, window 10s', () => {
    const previousFull = { window: T0 / 10_000 - 1, current: 10, previous: 0 };
    // At the start of the new window the old one still covers the whole sliding window.
    assert.equal(takeSlot(previousFull, T0, 10_000, 10).allowed, false);
    // 1 s in: 10 × 0.9 = 9 counted, one slot free; then full again.
    const at1s = takeSlot(previousFull, T0 + 1000, 10_000, 10);
    assert.deepEqual(at1s, { allowed: true, state: { window: T0 / 10_000, current: 1, previous: 10 } });
    assert.equal(takeSlot(at1s.state, T0 + 1000, 10_000, 10).allowed, false);
  });

  it('boundaries are exact in integers (no rounding): the slot frees at the millisecond it should', () => {
    // previous 10, current 1, window 10 s, limit 10: allowed when 10 × (10000 − e) + 1 × 10000 < 100000, i.e. e > 1000.
    const state = { window: T0 / 10_000, current: 1, previous: 10 };
    assert.equal(takeSlot(state, T0 + 1000, 10_000, 10).allowed, false, 'e = 1000: 9 + 1 = 10, full');
    assert.equal(takeSlot(state, T0 + 1001, 10_000, 10).allowed, true, 'e = 1001: 8.999 + 1 < 10');
  });

  it('two windows later nothing of the old counts remains', () => {
    const old = { window: T0 / 10_000 - 2, current: 10, previous: 10 };
    assert.deepEqual(takeSlot(old, T0, 10_000, 1), { allowed: true, state: { window: T0 / 10_000, current: 1, previous: 0 } });
  });

  it('a window opened by a replica whose clock runs slightly ahead is counted into, not reset', () => {
    const ahead = { window: T0 / 10_000 + 1, current: 2, previous: 5 };
    assert.deepEqual(takeSlot(ahead, T0 + 9_990, 10_000, 3), { allowed: false, state: ahead });
  });

  it('steady traffic below the limit rate is never refused; faster traffic gets the limit rate through, no more', () => {
    const every = (stepMs: number) => Array.from({ length: 100_000 / stepMs }, (_, i) => T0 + i * stepMs);
    assert.ok(replay(every(1111), 10_000, 10).every(Boolean), '9 per 10 s under a limit of 10');
    // 100 s at 2× and 10× the limit rate: exactly 10 per 10 s window (the first window's burst included).
    assert.equal(replay(every(500), 10_000, 10).filter(Boolean).length, 100);
    assert.equal(replay(every(100), 10_000, 10).filter(Boolean).length, 100);
  });
});

describe('in-process counter', () => {
  it('keys count apart and windows roll with the clock', async () => {
    const clock = { now: T0 };
    const counter = new MemoryCounter(() => clock.now);
    assert.deepEqual(await Promise.all([1, 2, 3].map(() => counter.take('a', 1000, 2))), [true, true, false]);
    assert.equal(await counter.take('b', 1000, 2), true);
    clock.now += 2000;
    assert.equal(await counter.take('a', 1000, 2), true);
  });
});

describe('client address', () => {
  const headers = (value?: string) => new Map(value === undefined ? [] : [['x-real-ip', value]]);
  it('the header value; for a list the last entry (the one the closest proxy appended); none when absent or empty', () => {
    assert.equal(clientAddress(headers('203.0.113.7'), 'x-real-ip'), '203.0.113.7');
    assert.equal(clientAddress(headers('10.9.9.9, 198.51.100.1 , 203.0.113.7'), 'x-real-ip'), '203.0.113.7');
    assert.equal(clientAddress(headers(), 'x-real-ip'), undefined);
    assert.equal(clientAddress(headers(' '), 'x-real-ip'), undefined);
    assert.equal(clientAddress(headers('203.0.113.7,'), 'x-real-ip'), undefined);
  });
});

function limitsFor(rateLimits: string, counter: WindowCounter) {
  const config = parseConfig(testConfigYaml(`rate_limits:\n${rateLimits}`), '/tmp/rl.yaml');
  const seen: string[] = [];
  const limits = new SlidingWindowLimits(compileRules(config.rate_limits), config.rate_limits, counter, {
    onLimited: (action: LimitedAction) => seen.push(`limited ${action}`),
    onFailOpen: (action, reason) => seen.push(`open ${action} ${reason}`),
  });
  return { limits, seen };
}

/** A counter that records keys and answers from a script. */
function scripted(answers: Array<boolean | undefined>): WindowCounter & { keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    async take(key, windowMs, limit) {
      keys.push(`${key} ${limit}/${windowMs}`);
      return answers.length > 0 ? answers.shift() : true;
    },
  };
}

describe('rules and subjects', () => {
  const ctx = { log: pino({ level: 'silent' }) };
  const rules = `
  address_header: X-Real-IP
  connect: [ { by: address, limit: 20, window: 10s }, { by: user, limit: 5, window: 1m } ]
  publish: [ { channel: "chat:vip", limit: 100, window: 1s }, { channel: "chat:*", limit: 10, window: 10s } ]
  rpc: [ { method: "tasks.*", limit: 3, window: 1s } ]`;

  it('publish and rpc: first matching rule, counted per user (per connection when anonymous); unmatched: not counted', async () => {
    const counter = scripted([]);
    const { limits } = limitsFor(rules, counter);
    await limits.publish({ user: '56', client: 'c1', channel: 'chat:vip' }, ctx);
    await limits.publish({ user: '56', client: 'c1', channel: 'chat:room' }, ctx);
    await limits.publish({ user: '', client: 'c2', channel: 'chat:room' }, ctx);
    await limits.publish({ user: '56', client: 'c1', channel: 'news:x' }, ctx);
    await limits.rpc({ user: '56', client: 'c1', method: 'tasks.get' }, ctx);
    await limits.rpc({ user: '56', client: 'c1', method: 'billing.get' }, ctx);
    assert.deepEqual(counter.keys, [
      'publish:chat:vip|100/1000:user:56 100/1000',
      'publish:chat:*|10/10000:user:56 10/10000',
      'publish:chat:*|10/10000:client:c2 10/10000',
      'rpc:tasks.*|3/1000:user:56 3/1000',
    ]);
  });

  it('connect: by the configured header (lowercased) before auth, by user after; anonymous users are not counted by user', async () => {
    const counter = scripted([]);
    const { limits } = limitsFor(rules, counter);
    await limits.connectByAddress(new Map([['x-real-ip', '203.0.113.7']]), ctx);
    await limits.connectByUser('56', ctx);
    await limits.connectByUser('', ctx);
    assert.deepEqual(counter.keys, ['connect:address|20/10000:address:203.0.113.7 20/10000', 'connect:user|5/60000:user:56 5/60000']);
  });

  it('over the limit: false and counted; Redis unavailable: true (fail open) and counted; no address header: true and counted', async () => {
    const counter = scripted([false, undefined]);
    const { limits, seen } = limitsFor(rules, counter);
    assert.equal(await limits.rpc({ user: '56', client: 'c1', method: 'tasks.get' }, ctx), false);
    assert.equal(await limits.rpc({ user: '56', client: 'c1', method: 'tasks.get' }, ctx), true);
    assert.equal(await limits.connectByAddress(new Map([['x-forwarded-for', '203.0.113.7']]), ctx), true);
    assert.deepEqual(seen, ['limited rpc', 'open rpc redis', 'open connect no_address']);
    assert.equal(counter.keys.length, 2, 'no count without an address');
  });
});

describe('rate_limits config', () => {
  const problems = (rateLimits: string): string[] => {
    try {
      parseConfig(testConfigYaml(`rate_limits: ${rateLimits}`), '/tmp/rl.yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems.map((p) => p.replace('/tmp/rl.yaml: ', ''));
    }
    return [];
  };

  it('off by default; a full example is valid and compiles to milliseconds', () => {
    const config = parseConfig(testConfigYaml(''), '/tmp/rl.yaml');
    assert.deepEqual(config.rate_limits, { address_header: '', connect: [], publish: [], rpc: [], max_keys: 100_000 });
    assert.equal(compileRules(config.rate_limits).any, false);
    const full = parseConfig(testConfigYaml('rate_limits: { rpc: [ { limit: 5, window: 1m } ] }'), '/tmp/rl.yaml');
    assert.deepEqual(full.rate_limits.rpc, [{ method: '*', limit: 5, window: 60_000 }]);
  });

  it('each mistake is one line naming the key', () => {
    const cases: Array<[string, string[]]> = [
      ['{ publish: [ { channel: "chat:*", limit: 0, window: 10s } ] }', ['rate_limits.publish[0].limit: Number must be greater than 0']],
      ['{ publish: [ { channel: "chat:*", limit: 1.5, window: 10s } ] }', ['rate_limits.publish[0].limit: Expected integer, received float']],
      ['{ publish: [ { channel: "chat:*", window: 10s } ] }', ['rate_limits.publish[0].limit: required: the requests allowed per window']],
      ['{ publish: [ { channel: "chat:*", limit: 5 } ] }', ['rate_limits.publish[0].window: required: a duration like "10s" or "1m"']],
      ['{ publish: [ { limit: 5, window: 500ms } ] }', ['rate_limits.publish[0].window: must be between 1s and 24h']],
      ['{ rpc: [ { limit: 5, window: 25h } ] }', ['rate_limits.rpc[0].window: must be between 1s and 24h']],
      ['{ publish: [ { channel: "ch*at", limit: 5, window: 1s } ] }', ['rate_limits.publish[0].channel: "*" may only end a prefix, got "ch*at"']],
      ['{ rpc: [ { method: "a", limit: 5, window: 1s, burst: 3 } ] }', ['rate_limits.rpc[0].burst: unknown key']],
      ['{ subscribe: [] }', ['rate_limits.subscribe: unknown key']],
      [
        '{ connect: [ { by: address, limit: 5, window: 1s } ] }',
        [`rate_limits.connect[0].by: "address" needs rate_limits.address_header (a header your load balancer sets, listed in Centrifugo's http_headers)`],
      ],
      ['{ connect: [ { by: ip, limit: 5, window: 1s } ] }', ["rate_limits.connect[0].by: Invalid enum value. Expected 'address' | 'user', received 'ip'"]],
      ['{ address_header: "x real ip" }', ['rate_limits.address_header: expected a header name like x-real-ip']],
    ];
    for (const [yaml, expected] of cases) assert.deepEqual(problems(yaml), expected, yaml);
  });
});

describe('docs/rate-limits.md', () => {
  it('its example config is valid and compiles to the rules it describes', () => {
    const doc = readFileSync(join(ROOT, 'docs/rate-limits.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'a yaml example');
    const config = parseConfig(testConfigYaml(example), '/tmp/rl.yaml');
    const rules = compileRules(config.rate_limits);
    assert.equal(rules.publish('chat:support')?.limit, 50);
    assert.equal(rules.publish('chat:room')?.limit, 10);
    assert.equal(rules.publish('news:x'), undefined);
    assert.equal(rules.rpc('tasks.create')?.windowMs, 60_000);
    assert.equal(rules.rpc('anything')?.limit, 20);
    assert.deepEqual([rules.connect.address.length, rules.connect.user.length], [1, 1]);
  });
});
