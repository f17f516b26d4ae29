/**
 * PolicyDecider on its own (fake engines, the real decision caches): the verdict of every path
 * (evaluated, cached, synchronous, several at once), shadow mode, the decision log, the candidate
 * comparison, the event span's `policy.allowed*` attributes and the evaluation's child span;
 * cacheKey's exact text and the roles read back from connection meta.
 */
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { after, before, describe, it } from 'node:test';
import { NoDecisionCache, TieredDecisionCache } from '../../src/cache/decision-cache.js';
import { cacheKey, PolicyDecider, rolesFromMeta, type DeciderOptions } from '../../src/policy/decider.js';
import type { PolicyEngine, PolicyQuery } from '../../src/policy/engine.js';
import { eventContext, parentFrom, startTracing, stopTracing, tracer } from '../../src/telemetry/tracing.js';
import { attr, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

/** Allows every object but "closed". */
const engine = (version: string, allow = (q: PolicyQuery) => q.object !== 'closed'): PolicyEngine =>
  ({ version, evaluator: `fake ${version}`, decide: allow }) as unknown as PolicyEngine;
const q = (object: string, action = 'subscribe', roles: string[] = []): PolicyQuery => ({ user: '56', roles, action, object });
const memoryCache = () => new TieredDecisionCache({ maxEntries: 100, ttlMs: 60_000 });
const decider = (options: Partial<DeciderOptions> = {}, cache: ConstructorParameters<typeof PolicyDecider>[1] = memoryCache()) =>
  new PolicyDecider({ current: () => engine('v1') }, cache, { mode: 'enforce', ...options });
const verdict = (allowed: boolean, policyAllowed: boolean, cacheTier: 'none' | 'memory') => ({ allowed, policyAllowed, version: 'v1', cached: cacheTier !== 'none', cacheTier });

describe('PolicyDecider verdicts', () => {
  it('decide: evaluated first (tier none, not cached), then from memory', async () => {
    const d = decider();
    assert.deepEqual(await d.decide(q('closed')), verdict(false, false, 'none'));
    assert.deepEqual(await d.decide(q('closed')), verdict(false, false, 'memory'));
    assert.deepEqual(await d.decide(q('open')), verdict(true, true, 'none'));
  });

  it('shadow mode lets a denied question through and keeps what the policy said', async () => {
    const d = decider({ mode: 'shadow' });
    assert.deepEqual(await d.decide(q('closed')), verdict(true, false, 'none'));
    assert.deepEqual(d.decideNow(q('closed')), verdict(true, false, 'memory'));
  });

  it('decideNow: undefined on a miss and with a cache that cannot peek; the memory verdict on a hit', async () => {
    const d = decider();
    assert.equal(d.decideNow(q('closed')), undefined);
    await d.decide(q('closed'));
    assert.deepEqual(d.decideNow(q('closed')), verdict(false, false, 'memory'));
    assert.equal(decider({}, new NoDecisionCache()).decideNow(q('closed')), undefined);
    assert.equal(decider({}, new NoDecisionCache()).decideAllNow([q('closed')]), undefined);
  });

  it('decideAllNow: every answer or none, stopping after the one `last` names (given the verdict, shadow included)', async () => {
    for (const mode of ['enforce', 'shadow'] as const) {
      const logged: string[] = [];
      const d = decider({ mode, decisionLog: { record: (query: PolicyQuery, allowed: boolean) => logged.push(`${query.object} ${allowed}`) } as never });
      await d.decide(q('open'));
      await d.decide(q('closed'));
      logged.length = 0;
      assert.equal(d.decideAllNow([q('open'), q('other')]), undefined);
      assert.deepEqual(logged, [], 'a miss records nothing');
      const seen: string[] = [];
      const all = d.decideAllNow([q('open'), q('closed'), q('open')], (allowed, index) => (seen.push(`${index} ${allowed}`), !allowed));
      const shadow = mode === 'shadow';
      assert.deepEqual(seen, shadow ? ['0 true', '1 true', '2 true'] : ['0 true', '1 false']);
      const expected = [verdict(true, true, 'memory'), verdict(shadow, false, 'memory')];
      assert.deepEqual(all, shadow ? [...expected, verdict(true, true, 'memory')] : expected);
      assert.deepEqual(logged, shadow ? ['open true', 'closed false', 'open true'] : ['open true', 'closed false']);
      assert.deepEqual(d.decideAllNow([q('closed'), q('open')]), [verdict(shadow, false, 'memory'), verdict(true, true, 'memory')]);
    }
  });

  it('records every decision in the log with the engine, the mode and the trace', async () => {
    const records: unknown[][] = [];
    const d = decider({ mode: 'shadow', decisionLog: { record: (...args: unknown[]) => records.push(args) } as never });
    await d.decide(q('closed'));
    assert.equal(records.length, 1);
    const [query, allowed, used, shadow, traced] = records[0] as [PolicyQuery, boolean, PolicyEngine, boolean, unknown];
    assert.deepEqual([query, allowed, used.version, shadow, traced], [q('closed'), false, 'v1', true, undefined]);
  });
});

describe('PolicyDecider candidate', () => {
  const run = async (loaded: boolean, withListener = true) => {
    const calls: string[] = [];
    const candidate = { current: () => engine('v2', (query) => query.object === 'closed'), loaded: () => loaded };
    const d = decider({ candidate, ...(withListener ? { onDisagreement: (query, live, other, version) => calls.push(`${query.object} live=${live} candidate=${other} ${version}`) } : {}) });
    // The candidate answers the opposite of the live policy on both objects.
    const answers = [await d.decide(q('open')), await d.decide(q('closed')), await d.decide(q('open'))];
    return { calls, answers };
  };

  it('reports every disagreement with both answers and the candidate version, and never changes an answer', async () => {
    const { calls, answers } = await run(true);
    assert.deepEqual(calls, ['open live=true candidate=false v2', 'closed live=false candidate=true v2', 'open live=true candidate=false v2']);
    assert.deepEqual(answers, [verdict(true, true, 'none'), verdict(false, false, 'none'), verdict(true, true, 'memory')]);
  });

  it('is not asked while not loaded; a candidate without a listener changes nothing', async () => {
    assert.deepEqual((await run(false)).calls, []);
    assert.deepEqual((await run(true, false)).answers, [verdict(true, true, 'none'), verdict(false, false, 'none'), verdict(true, true, 'memory')]);
  });

  it('agreement is not reported', async () => {
    const calls: string[] = [];
    const d = decider({ candidate: { current: () => engine('v2'), loaded: () => true }, onDisagreement: (query) => calls.push(query.object) });
    await d.decide(q('open'));
    await d.decide(q('closed'));
    assert.deepEqual(calls, []);
  });
});

describe('cacheKey and rolesFromMeta', () => {
  it('cacheKey: version, action, user, object, then the sorted roles, joined by U+001F', () => {
    const roles = ['role:b', 'role:a', 'role:c'];
    assert.equal(cacheKey('v1', q('chat:1', 'publish', roles)), 'v1\u001fpublish\u001f56\u001fchat:1\u001frole:a\u001frole:b\u001frole:c');
    assert.deepEqual(roles, ['role:b', 'role:a', 'role:c'], 'the query keeps its order');
    assert.equal(cacheKey('v1', q('chat:1', 'publish', ['role:x'])), 'v1\u001fpublish\u001f56\u001fchat:1\u001frole:x');
    assert.equal(cacheKey('v1', q('chat:1', 'publish', [])), 'v1\u001fpublish\u001f56\u001fchat:1');
  });

  it('cacheKey: a field holding a marker or a surrogate makes the key U+001E and the JSON of the fields', () => {
    assert.equal(cacheKey('v1', q('chat:\u001f', 'subscribe', ['r'])), '\u001e["v1","subscribe","56","chat:\\u001f",["r"]]');
    assert.equal(cacheKey('v1', q('chat:1', 'subscribe', ['r\u001e'])), '\u001e["v1","subscribe","56","chat:1",["r\\u001e"]]');
    assert.equal(cacheKey('v1', q('chat:\uD800', 'subscribe')), '\u001e["v1","subscribe","56","chat:\\ud800",[]]');
    assert.equal(cacheKey('v1', q('chat:\u{1F600}', 'subscribe')), '\u001e["v1","subscribe","56","chat:\u{1F600}",[]]');
  });

  it('rolesFromMeta: the non-empty strings of meta.roles, nothing from any other shape', () => {
    assert.deepEqual(rolesFromMeta({ roles: ['role:a', '', 3, null, 'role:b'] }), ['role:a', 'role:b']);
    for (const meta of [undefined, null, 'roles', 7, true, ['role:a'], {}, { roles: 'role:a' }, { roles: { 0: 'role:a' } }]) {
      assert.deepEqual(rolesFromMeta(meta as never), [], JSON.stringify(meta));
    }
  });
});

describe('PolicyDecider with tracing on', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_TRACES_SAMPLER: 'always_on' };
    // The SDK reads process.env itself (this test file runs in a process of its own).
    Object.assign(process.env, env);
    assert.equal(await startTracing(process.env), true);
  });
  after(async () => {
    await stopTracing();
    receiver.close();
  });

  /** One event span (a trace of its own) over `questions`; its spans once `evaluations` more than the event's are exported. */
  /** `now`: each question asked of decideNow first (the synchronous path of a cache hit), then of decide on a miss. */
  /** `made`: how the event's context is made (instrument.ts makes it with eventContext). */
  const event = async (traceId: string, questions: PolicyQuery[], evaluations: number, d = decider(), now = false, made = eventContext) => {
    const span = tracer().startSpan('event', undefined, parentFrom(`00-${traceId}-b7ad6b7169203331-01`));
    const context = made(ROOT_CONTEXT, span);
    for (const question of questions) if (!now || d.decideNow(question, context) === undefined) await d.decide(question, context);
    span.end();
    const spans = await receiver.spansFor(traceId, evaluations + 1);
    const eventSpan = spans.find((s) => s.name === 'event')!;
    const keys = ['policy.version', 'cache.tier', 'policy.allowed', 'policy.allowed.subscribe', 'policy.allowed.connect'];
    return { eventSpan: Object.fromEntries(keys.map((k) => [k, attr(eventSpan, k)])), spans, eventSpanId: eventSpan.spanId };
  };

  it('the event span: policy.allowed per action and over the event, with version and cache tier', async () => {
    const allowed = await event('0af7651916cd43dd8448eb211c803101', [q('open')], 1);
    assert.deepEqual(allowed.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'none', 'policy.allowed': true, 'policy.allowed.subscribe': true, 'policy.allowed.connect': undefined });
    const d = decider();
    const mixed = await event('0af7651916cd43dd8448eb211c803102', [q('', 'connect'), q('open'), q('closed'), q('open')], 3, d);
    assert.deepEqual(mixed.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'memory', 'policy.allowed': false, 'policy.allowed.subscribe': false, 'policy.allowed.connect': true });
    const deniedFirst = await event('0af7651916cd43dd8448eb211c803103', [q('closed'), q('', 'connect')], 0, d);
    assert.deepEqual(deniedFirst.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'memory', 'policy.allowed': false, 'policy.allowed.subscribe': false, 'policy.allowed.connect': true });
  });

  it('a context not made by eventContext: each answer is annotated alone, nothing accumulates', async () => {
    const d = decider();
    const plain = (parent: typeof ROOT_CONTEXT, span: Parameters<typeof trace.setSpan>[1]) => trace.setSpan(parent, span);
    const alone = await event('0af7651916cd43dd8448eb211c80310a', [q('closed'), q('', 'connect')], 2, d, false, plain);
    // The last answer (connect, allowed) overwrote the first's policy.allowed: no memory of the denied subscribe.
    assert.deepEqual(alone.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'none', 'policy.allowed': true, 'policy.allowed.subscribe': false, 'policy.allowed.connect': true });
  });

  it('decideNow on a traced request: the event span gets what decide gives a memory hit', async () => {
    const d = decider();
    const mixed = await event('0af7651916cd43dd8448eb211c803107', [q('', 'connect'), q('open'), q('closed'), q('open')], 3, d, true);
    assert.deepEqual(mixed.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'memory', 'policy.allowed': false, 'policy.allowed.subscribe': false, 'policy.allowed.connect': true });
    // Only hits now (nothing evaluated): the denied answer first, then the allowed connect.
    const hits = await event('0af7651916cd43dd8448eb211c803108', [q('closed'), q('', 'connect')], 0, d, true);
    assert.deepEqual(hits.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'memory', 'policy.allowed': false, 'policy.allowed.subscribe': false, 'policy.allowed.connect': true });
    const allowedHit = await event('0af7651916cd43dd8448eb211c803109', [q('open')], 0, d, true);
    assert.deepEqual(allowedHit.eventSpan, { 'policy.version': 'v1', 'cache.tier': 'memory', 'policy.allowed': true, 'policy.allowed.subscribe': true, 'policy.allowed.connect': undefined });
  });

  it('an evaluation is a policy.evaluate child span with its answer; a cache hit makes none', async () => {
    const { spans, eventSpanId } = await event('0af7651916cd43dd8448eb211c803104', [q('closed'), q('', 'connect'), q('closed')], 2);
    const evaluations = spans.filter((s) => s.name !== 'event');
    assert.deepEqual(
      evaluations.map((s) => [s.name, s.parentSpanId, ...['policy.version', 'policy.action', 'policy.evaluator', 'policy.allowed'].map((k) => attr(s, k))]),
      [
        ['policy.evaluate', eventSpanId, 'v1', 'subscribe', 'fake v1', false],
        ['policy.evaluate', eventSpanId, 'v1', 'connect', 'fake v1', true],
      ],
    );
  });
});
