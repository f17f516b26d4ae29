/**
 * Rule coverage of the policy test cases (test-coverage.ts) computed and described directly,
 * with exact counts and lines: what the mutation run of that file (TESTING.md) showed the CLI
 * tests of policy-test-command.test.ts leave open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { parsePolicyText, type PolicyRule } from '../../src/policy/policy-source.js';
import type { PolicyTestCase } from '../../src/policy/test-cases.js';
import { describeCoverage, ruleCoverage, type RuleCoverage } from '../../src/policy/test-coverage.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';

const rulesOf = (lines: string[]) => parsePolicyText(lines.join('\n'), 'p.csv');
const testCase = (over: Partial<PolicyTestCase>): PolicyTestCase => ({ note: 'n', user: 'u1', roles: [], action: 'subscribe', object: 'chat:x', expect: 'allow', file: 't.yaml', index: 0, ...over });

describe('test-coverage: ruleCoverage', () => {
  it('every p line (no g line) with the cases it matched and how those were decided', async () => {
    const rules = rulesOf([
      'p, authenticated, chat:*, subscribe, allow',
      'p, role:a, chat:secret, subscribe, deny',
      'g, u1, role:a',
      'p, role:a, chat:*, publish, allow',
      'p, anonymous, news:*, subscribe, allow',
    ]);
    const engine = await IndexedEngine.build({ modelText: DEFAULT_MODEL, modelFile: 'model.conf', rules, files: ['p.csv'], version: 'v' });
    const cases = [
      testCase({}),
      testCase({ user: 'u2', roles: ['role:a'], object: 'chat:secret', expect: 'deny' }),
      testCase({ object: 'chat:secret', expect: 'deny' }),
      testCase({ user: 'u3', action: 'publish' }),
    ];
    assert.deepEqual(
      ruleCoverage(engine, cases).map((c) => [c.rule.location.line, c.cases, c.allow, c.deny]),
      [
        [1, 3, 1, 2],
        [2, 2, 0, 2],
        [4, 0, 0, 0],
        [5, 0, 0, 0],
      ],
    );
    assert.equal(ruleCoverage(engine, [])[0]?.rule, rules[0]);
  });
});

describe('test-coverage: describeCoverage', () => {
  const [allowLine, denyLine] = rulesOf(['p, role:a, chat:*, subscribe, allow', 'p, role:a, chat:x, subscribe, deny']) as [PolicyRule, PolicyRule];
  const row = (rule: PolicyRule, cases: number, allow: number, deny: number): RuleCoverage => ({ rule, cases, allow, deny });

  it('the summary, then unexercised lines and allow lines seen one way only, in the order given', () => {
    assert.deepEqual(
      describeCoverage([row(allowLine, 2, 1, 1), row(denyLine, 0, 0, 0), row(allowLine, 3, 0, 3), row(allowLine, 1, 1, 0), row(denyLine, 2, 0, 2), row(allowLine, 0, 0, 0)], 7),
      [
        'coverage: 4 of 6 rule lines exercised by 7 cases',
        'not exercised: p.csv:2: p, role:a, chat:x, subscribe, deny',
        'only seen deciding deny: p.csv:1: p, role:a, chat:*, subscribe, allow (matched 3 case(s), each denied by another line: no case shows it allowing)',
        'only seen deciding allow: p.csv:1: p, role:a, chat:*, subscribe, allow (matched 1 case(s))',
        'not exercised: p.csv:1: p, role:a, chat:*, subscribe, allow',
      ],
    );
  });

  it('a deny line is never reported for deciding one way (it only ever denies)', () => {
    assert.deepEqual(describeCoverage([row(denyLine, 1, 1, 0), row(denyLine, 1, 0, 1)], 1), ['coverage: 2 of 2 rule lines exercised by 1 cases']);
  });

  it('no lines: nothing exercised', () => {
    assert.deepEqual(describeCoverage([], 0), ['coverage: 0 of 0 rule lines exercised by 0 cases']);
  });
});
