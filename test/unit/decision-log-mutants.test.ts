/**
 * The decision log line by line (StrykerJS survivors, TESTING.md "Fifth pass"): which decisions
 * get a line (every deny; an allow when the draw falls below allow_sample), each field of the
 * line, the counter callback, and `describeRule`'s text. A fake engine gives the explanation.
 */
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { describe, it } from 'node:test';
import pino from 'pino';
import { DecisionLog, describeRule } from '../../src/policy/decision-log.js';
import type { Explanation, PolicyEngine, PolicyQuery } from '../../src/policy/engine.js';
import type { PolicyRule } from '../../src/policy/policy-source.js';
import { logCapture } from '../helpers/log-capture.js';

const rule = (line: number, ...values: string[]): PolicyRule => ({ ptype: 'p', values, location: { file: 'policies/policy.csv', line } });
const ALLOW = rule(4, 'role:member', 'chat:*', 'subscribe', 'allow');
const DENY = rule(9, '666', 'chat:*', 'subscribe', 'deny');

/** An engine whose explanation names `deciding`; it counts the explanations asked for. */
function engine(deciding: PolicyRule[]): PolicyEngine & { explained: number } {
  return {
    version: 'v42',
    evaluator: 'fake',
    source: undefined as never,
    explained: 0,
    decide: () => assert.fail('the decision log is given the answer, it does not decide'),
    explain(): Explanation {
      this.explained++;
      return { allowed: deciding[0] === ALLOW, deciding, matched: deciding, version: this.version };
    },
  };
}

const QUERY: PolicyQuery = { user: '56', roles: ['role:member', 'role:x'], action: 'subscribe', object: 'chat:lobby' };

/** A decision log over a capturing logger; `draws` are what its random source returns, in turn. */
function decisionLog(allowSample: number, draws: number[] = []) {
  const { lines, stream } = logCapture();
  const counted: string[] = [];
  const log = new DecisionLog(pino({ level: 'info', base: undefined, timestamp: false }, stream), allowSample, (d) => counted.push(d), () => draws.shift() ?? assert.fail('no draw left'));
  // pino writes to a stream asynchronously: let it flush before reading the lines.
  const flushed = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return lines;
  };
  return { log, flushed, counted };
}

describe('decision log: which decisions get a line', () => {
  it('every deny, whatever the draw; the counter is told each line\'s decision', async () => {
    const { log, flushed, counted } = decisionLog(0);
    const e = engine([DENY]);
    log.record(QUERY, false, e, false);
    log.record(QUERY, false, e, false);
    assert.equal((await flushed()).length, 2);
    assert.deepEqual(counted, ['deny', 'deny']);
    assert.equal(e.explained, 2);
  });

  it('allow_sample 0: no allow is logged or explained', async () => {
    const { log, flushed, counted } = decisionLog(0, [0, 0, 0]);
    const e = engine([ALLOW]);
    for (let i = 0; i < 3; i++) log.record(QUERY, true, e, false);
    assert.deepEqual([(await flushed()).length, counted, e.explained], [0, [], 0]);
  });

  it('an allow is logged when the draw is below allow_sample, not at or above it', async () => {
    const { log, flushed, counted } = decisionLog(0.5, [0.25, 0.5, 0.75, 0.4999]);
    const e = engine([ALLOW]);
    for (let i = 0; i < 4; i++) log.record({ ...QUERY, object: `chat:${i}` }, true, e, false);
    assert.deepEqual((await flushed()).map((l) => l.object), ['chat:0', 'chat:3']);
    assert.deepEqual(counted, ['allow', 'allow']);
    assert.equal(e.explained, 2);
  });

  it('allow_sample 1: every allow (draws are below 1)', async () => {
    const { log, flushed } = decisionLog(1, [0, 0.999]);
    log.record(QUERY, true, engine([ALLOW]), false);
    log.record(QUERY, true, engine([ALLOW]), false);
    assert.equal((await flushed()).length, 2);
  });
});

describe('decision log: the line', () => {
  it('a deny: the question, the deciding rule, the policy version, nothing else', async () => {
    const { log, flushed } = decisionLog(0);
    log.record(QUERY, false, engine([DENY, rule(12, 'role:x', '*', 'subscribe', 'deny')]), false);
    assert.deepEqual(await flushed(), [
      {
        level: 30,
        decision: 'deny',
        user: '56',
        roles: ['role:member', 'role:x'],
        action: 'subscribe',
        object: 'chat:lobby',
        rule: 'policies/policy.csv:9: p, 666, chat:*, subscribe, deny',
        policy_version: 'v42',
        msg: 'decision',
      },
    ]);
  });

  it('a default deny says no rule matched', async () => {
    const { log, flushed } = decisionLog(0);
    log.record({ user: '', roles: [], action: 'connect', object: '' }, false, engine([]), false);
    const [line] = await flushed();
    assert.equal(line?.rule, 'no rule matched (default deny)');
    assert.deepEqual([line?.user, line?.roles, line?.object], ['', [], '']);
  });

  it('a sampled allow in shadow mode: the decision and what was answered', async () => {
    const { log, flushed } = decisionLog(1, [0]);
    log.record(QUERY, true, engine([ALLOW]), true);
    const { log: shadowDeny, flushed: shadowDenyLines } = decisionLog(0);
    shadowDeny.record(QUERY, false, engine([DENY]), true);
    const [allowLine] = await flushed();
    const [denyLine] = await shadowDenyLines();
    assert.deepEqual([allowLine?.decision, allowLine?.rule, allowLine?.answered], ['allow', 'policies/policy.csv:4: p, role:member, chat:*, subscribe, allow', 'allow (shadow mode)']);
    assert.deepEqual([denyLine?.decision, denyLine?.answered], ['deny', 'allow (shadow mode)']);
  });

  it('with a trace: its trace and span IDs', async () => {
    const { log, flushed } = decisionLog(0);
    const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    log.record(QUERY, false, engine([DENY]), false, trace.setSpan(ROOT_CONTEXT, span));
    const [line] = await flushed();
    assert.deepEqual([line?.trace_id, line?.span_id], ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331']);
  });
});

describe('describeRule', () => {
  it('file:line: then the policy type and values, comma-separated', () => {
    assert.equal(describeRule(DENY), 'policies/policy.csv:9: p, 666, chat:*, subscribe, deny');
    assert.equal(describeRule({ ptype: 'g', values: ['7', 'role:m'], location: { file: 'p/roles.csv', line: 1 } }), 'p/roles.csv:1: g, 7, role:m');
  });
});
