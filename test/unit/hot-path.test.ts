/**
 * The hot path's own bookkeeping: decision deadlines, the per-decision metric cells, decision
 * cache keys, and the synchronous answer of a decision held in the in-process cache.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { DeadlineQueue } from '../../src/core/deadlines.js';
import { FastCounter, FastHistogram } from '../../src/telemetry/hot-metrics.js';
import type { PolicyQuery } from '../../src/policy/engine.js';
import { cacheKey, PolicyDecider } from '../../src/policy/decider.js';
import pino from 'pino';
import { TieredDecisionCache } from '../../src/cache/decision-cache.js';
import { instrument } from '../../src/core/instrument.js';
import type { HandlerDeps } from '../../src/handlers/handler.js';
import { subscribeHandler } from '../../src/handlers/subscribe.js';
import { publishHandler } from '../../src/handlers/publish.js';
import { subRefreshHandler } from '../../src/handlers/sub-refresh.js';
import type { RateLimits } from '../../src/ratelimit/rate-limits.js';
import type { PolicyEngine } from '../../src/policy/engine.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import type { Decision } from '../../src/core/decision.js';
import type { AnyResult } from '../../src/core/messages.js';
import { encodeHttpDecision } from '../../src/transport/http/encode.js';

describe('DeadlineQueue', () => {
  it('fires an unfinished deadline once and never early; a finished one never fires', async () => {
    const queue = new DeadlineQueue(10);
    const fired: string[] = [];
    const started = performance.now();
    const firedAt: number[] = [];
    queue.add(50, () => (fired.push('slow'), firedAt.push(performance.now() - started)));
    const fast = queue.add(50, () => fired.push('fast'));
    fast.done();
    queue.add(50, () => fired.push('third'));
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(fired, ['slow', 'third']);
    // Never early. How late depends on the machine's load (a busy CI core stalls timers), so it
    // is not asserted: the order above already shows the sweep ran before the 120 ms timer.
    assert.ok((firedAt[0] as number) >= 50, `fired after ${firedAt[0]} ms`);
  });

  it('stops sweeping when nothing is pending (no timer keeps the process busy)', async () => {
    const queue = new DeadlineQueue(5);
    queue.add(1, () => undefined).done();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((queue as unknown as { timer?: unknown }).timer, undefined);
  });
});

describe('FastHistogram and FastCounter', () => {
  it('expose the Prometheus text format prom-client would', async () => {
    const registry = new Registry();
    const histogram = new FastHistogram('t_seconds', 'Test durations.', ['event'], [0.01, 0.1], registry);
    const counter = new FastCounter('t_total', 'Test answers.', ['event', 'code'], registry);
    const cell = histogram.cell({ event: 'subscribe' });
    for (const v of [0.005, 0.05, 0.5]) cell.observe(v);
    counter.cell({ event: 'subscribe', code: '403' }).inc();
    counter.cell({ code: '403', event: 'subscribe' }).inc(2);
    assert.equal(
      await registry.metrics(),
      [
        '# HELP t_seconds Test durations.',
        '# TYPE t_seconds histogram',
        't_seconds_bucket{event="subscribe",le="0.01"} 1',
        't_seconds_bucket{event="subscribe",le="0.1"} 2',
        't_seconds_bucket{event="subscribe",le="+Inf"} 3',
        't_seconds_sum{event="subscribe"} 0.555',
        't_seconds_count{event="subscribe"} 3',
        '',
        '# HELP t_total Test answers.',
        '# TYPE t_total counter',
        't_total{event="subscribe",code="403"} 3',
        '',
      ].join('\n'),
    );
  });
});

describe('cacheKey', () => {
  const q = (user: string, object: string, roles: string[] = [], action = 'subscribe') => ({ user, roles, action, object });
  // Pairs a naive join would merge: boundaries moved between user, object and roles.
  const distinct: Array<[string, PolicyQuery, PolicyQuery]> = [
    ['user/object boundary', q('ab', 'c'), q('a', 'bc')],
    ['a length-looking user', q('1:a', 'b'), q('1', ':ab')],
    ['object/roles boundary', q('u', 'chat:a', ['r']), q('u', 'chat:a1:r')],
    ['role split', q('u', 'c', ['ab']), q('u', 'c', ['a', 'b'])],
    ['anonymous vs named', q('', 'c'), q('0:', 'c')],
    ['action', q('u', 'c', [], 'subscribe'), q('u', 'c', [], 'publish')],
    // As Redis keys (UTF-8) every lone surrogate would become U+FFFD.
    ['lone surrogate vs U+FFFD', q('u', 'chat:\uD800'), q('u', 'chat:\uFFFD')],
    ['two lone surrogates', q('u', 'chat:\uD800'), q('u', 'chat:\uDBFF')],
    // The separator inside a field: a plain join would read both as user "a", object "b", role "c".
    ['separator in the user', q('a\u001fb', 'c'), q('a', 'b', ['c'])],
    ['separator in the object', q('a', 'b\u001fc'), q('a', 'b', ['c'])],
    ['separator in a role', q('a', 'b', ['c\u001fd']), q('a', 'b', ['c', 'd'])],
    // An escaped key cannot pass for a plain one: plain keys never start with the escape marker.
    ['escape marker in the version position', q('u', 'c'), q('u\u001e', 'c')],
    ['roles: none vs one empty', q('u', 'c', []), q('u', 'c', [''])],
  ];
  for (const [note, a, b] of distinct) {
    it(`tells apart: ${note}`, () => {
      assert.notEqual(Buffer.from(cacheKey('v1', a)).toString('hex'), Buffer.from(cacheKey('v1', b)).toString('hex'));
    });
  }

  it('changes with the policy version and not with the order of roles', () => {
    assert.notEqual(cacheKey('v1', q('u', 'c')), cacheKey('v2', q('u', 'c')));
    assert.equal(cacheKey('v1', q('u', 'c', ['b', 'a'])), cacheKey('v1', q('u', 'c', ['a', 'b'])));
  });
});

describe('a subscribe decision held in the in-process cache', () => {
  const DENIED = { code: 403, message: 'permission denied' };
  const build = (mode: 'enforce' | 'shadow' = 'enforce') => {
    let evaluations = 0;
    const engine = {
      version: 'v1',
      evaluator: 'test',
      decide: (q: { object: string }) => (evaluations++, q.object === 'chat:open'),
    } as unknown as PolicyEngine;
    const counted: string[] = [];
    const cache = new TieredDecisionCache({ maxEntries: 100, ttlMs: 60_000, counters: { count: (tier, result) => counted.push(`${tier} ${result}`) } });
    const decider = new PolicyDecider({ current: () => engine }, cache, { mode });
    const deps = { config: { auth: { subscription_lifetime: 0 }, codes: { permission_denied: DENIED } }, decider, now: () => 0 } as unknown as HandlerDeps;
    const metrics = new Metrics();
    const dispatch = instrument('subscribe', subscribeHandler(deps), {
      log: pino({ level: 'silent' }),
      metrics,
      failureAnswer: () => ({ grace: false, answer: () => ({ kind: 'error', code: 500, message: 'internal', temporary: true }) }),
      timeoutMs: () => 900,
    });
    return { dispatch, metrics, counted, evaluations: () => evaluations };
  };
  const request = (channel: string) => ({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', binary: false, headers: new Map(), user: '56', channel }) as never;

  it('is answered synchronously, with the answer the async path gave and every metric counted', async () => {
    const { dispatch, metrics, counted, evaluations } = build();
    for (const [channel, expected] of [
      ['chat:open', { kind: 'result', result: {} }],
      ['chat:closed', { kind: 'error', ...DENIED, temporary: false }],
    ] as const) {
      const first = dispatch(request(channel), { transport: 'http' });
      assert.ok(first instanceof Promise, 'a miss is worked on asynchronously');
      assert.deepEqual(await first, expected);
      const second = dispatch(request(channel), { transport: 'grpc' });
      assert.ok(!(second instanceof Promise), 'a hit is answered without a promise');
      assert.deepEqual(second, expected);
    }
    assert.equal(evaluations(), 2);
    assert.deepEqual(counted, ['memory miss', 'memory hit', 'memory miss', 'memory hit']);
    const text = await metrics.registry.metrics();
    assert.match(text, /cpp_decisions_total\{event="subscribe",decision="result",code=""\} 2/);
    assert.match(text, /cpp_decisions_total\{event="subscribe",decision="error",code="403"\} 2/);
    assert.match(text, /cpp_request_duration_seconds_count\{event="subscribe",transport="grpc",decision="result"\} 1/);
  });

  it('follows shadow mode: a denied channel is let through from the cache too', async () => {
    const { dispatch } = build('shadow');
    await dispatch(request('chat:closed'), { transport: 'http' });
    assert.deepEqual(dispatch(request('chat:closed'), { transport: 'http' }), { kind: 'result', result: {} });
  });
});

describe('publish and sub_refresh decisions held in memory', () => {
  const DENIED = { code: 403, message: 'permission denied' };
  const build = (options: { limits?: RateLimits; revoked?: Set<string>; mirror?: boolean } = {}) => {
    let evaluations = 0;
    const engine = { version: 'v1', evaluator: 'test', decide: (q: { object: string }) => (evaluations++, q.object === 'chat:open') } as unknown as PolicyEngine;
    const cache = new TieredDecisionCache({ maxEntries: 100, ttlMs: 60_000 });
    const decider = new PolicyDecider({ current: () => engine }, cache, { mode: 'enforce' });
    const revoked = options.revoked ?? new Set<string>();
    const revocations = {
      isRevoked: async (user: string) => revoked.has(user),
      // Without the in-memory mirror, revocations are only known by asking (Redis).
      ...(options.mirror === false ? {} : { isRevokedNow: (user: string) => revoked.has(user) }),
    };
    const deps = {
      config: { auth: { subscription_lifetime: 60_000, refresh_interval: 0 }, codes: { permission_denied: DENIED, too_many_requests: { code: 429, message: 'too many requests', temporary: true } } },
      decider,
      revocations,
      now: () => 1_000_000,
      ...(options.limits ? { limits: options.limits } : {}),
    } as unknown as HandlerDeps;
    const ctx = { log: pino({ level: 'silent' }), signal: new AbortController().signal };
    return {
      publish: (channel: string) => publishHandler(deps)(request(channel) as never, ctx),
      subRefresh: (channel: string) => subRefreshHandler(deps)(request(channel) as never, ctx),
      evaluations: () => evaluations,
    };
  };
  const request = (channel: string) => ({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', binary: false, headers: new Map(), user: '56', channel, data: { bytes: Buffer.from('{}') } });

  it('publish: a cached decision is answered synchronously with the async answer, allow and deny', async () => {
    const { publish, evaluations } = build();
    for (const [channel, expected] of [
      ['chat:open', { kind: 'result', result: {} }],
      ['chat:closed', { kind: 'error', ...DENIED, temporary: false }],
    ] as const) {
      const first = publish(channel);
      assert.ok(first instanceof Promise, 'a miss is worked on asynchronously');
      assert.deepEqual(await first, expected);
      const second = publish(channel);
      assert.ok(!(second instanceof Promise), 'a hit is answered without a promise');
      assert.deepEqual(second, expected);
    }
    assert.equal(evaluations(), 2);
  });

  it('publish: with rate limits every request takes the async path and is counted', async () => {
    const counted: string[] = [];
    const limits = { publish: async () => (counted.push('publish'), true) } as unknown as RateLimits;
    const { publish } = build({ limits });
    await publish('chat:open');
    const again = publish('chat:open');
    assert.ok(again instanceof Promise);
    assert.deepEqual(await again, { kind: 'result', result: {} });
    assert.deepEqual(counted, ['publish', 'publish']);
  });

  it('sub_refresh: cached decision and the revocation mirror answer synchronously; a revoked user is expired', async () => {
    const revoked = new Set<string>();
    const { subRefresh } = build({ revoked });
    const extended = { kind: 'result', result: { expire_at: 1060 } };
    assert.deepEqual(await subRefresh('chat:open'), extended);
    const hit = subRefresh('chat:open');
    assert.ok(!(hit instanceof Promise));
    assert.deepEqual(hit, extended);
    assert.deepEqual(await subRefresh('chat:closed'), { kind: 'result', result: { expired: true } });
    assert.deepEqual(subRefresh('chat:closed'), { kind: 'result', result: { expired: true } });
    revoked.add('56');
    assert.deepEqual(subRefresh('chat:open'), { kind: 'result', result: { expired: true } }, 'the mirror is asked on the synchronous path too');
  });

  it('sub_refresh: without the revocation mirror every request asks asynchronously', async () => {
    const { subRefresh } = build({ mirror: false });
    await subRefresh('chat:open');
    assert.ok(subRefresh('chat:open') instanceof Promise);
  });
});

describe('encodeHttpDecision', () => {
  // What Go's encoding/json reads: the same text JSON.stringify gives for the wire object.
  const cases: Array<[Decision<AnyResult>, unknown]> = [
    [{ kind: 'result', result: {} }, { result: {} }],
    [{ kind: 'result', result: { expire_at: 1_700_000_000 } }, { result: { expire_at: 1_700_000_000 } }],
    [{ kind: 'error', code: 403, message: 'permission denied', temporary: false }, { error: { code: 403, message: 'permission denied' } }],
    [{ kind: 'error', code: 500, message: 'internal error', temporary: true }, { error: { code: 500, message: 'internal error', temporary: true } }],
    [{ kind: 'error', code: 429, message: 'quotes " and \\ and \u2028 and ü', temporary: false }, { error: { code: 429, message: 'quotes " and \\ and \u2028 and ü' } }],
    [{ kind: 'disconnect', code: 4503, reason: 'forbidden' }, { disconnect: { code: 4503, reason: 'forbidden' } }],
    [{ kind: 'disconnect', code: 4501, reason: 'un"authorized\n' }, { disconnect: { code: 4501, reason: 'un"authorized\n' } }],
  ];
  for (const [decision, wire] of cases) {
    it(`${decision.kind} ${JSON.stringify(wire)}`, () => {
      assert.equal(encodeHttpDecision(decision, false), JSON.stringify(wire));
    });
  }
});
