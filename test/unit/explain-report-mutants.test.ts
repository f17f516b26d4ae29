/**
 * The machine-readable explanation (explain-report.ts) called directly: the exact object
 * `explain --json` and the policy page print, the rule text and JSON, and the roles list, as the
 * mutation run of that file (TESTING.md) showed the one --json case of policy-explain.test.ts
 * leaves open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Explanation, PolicyEngine, PolicyQuery } from '../../src/policy/engine.js';
import { explainReport, rolesList, ruleJson, ruleText } from '../../src/policy/explain-report.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { parsePolicyText, type PolicySource } from '../../src/policy/policy-source.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';

const sourceOf = (lines: string[]): PolicySource => ({
  modelText: DEFAULT_MODEL,
  modelFile: 'model.conf',
  rules: parsePolicyText(lines.join('\n'), 'p.csv'),
  files: ['p.csv'],
  version: 'v1',
});
const query = (q: Partial<PolicyQuery>): PolicyQuery => ({ user: 'u1', roles: [], action: 'subscribe', object: 'chat:1', ...q });

describe('explain-report: rule text and JSON', () => {
  const [p, g] = parsePolicyText('p, a, chat:*, subscribe, allow\n\ng, b, role:c\n', 'dir/p.csv') as [never, never];

  it('the type, then every value, comma and space between', () => {
    assert.equal(ruleText(p), 'p, a, chat:*, subscribe, allow');
    assert.equal(ruleText(g), 'g, b, role:c');
  });

  it('file, line and text', () => {
    assert.deepEqual(ruleJson(p), { file: 'dir/p.csv', line: 1, rule: 'p, a, chat:*, subscribe, allow' });
    assert.deepEqual(ruleJson(g), { file: 'dir/p.csv', line: 3, rule: 'g, b, role:c' });
  });
});

describe('explain-report: rolesList', () => {
  it('nothing for the empty text, names split on commas and trimmed', () => {
    assert.deepEqual(rolesList(''), []);
    assert.deepEqual(rolesList('a'), ['a']);
    assert.deepEqual(rolesList(' role:a , role:b,role:c '), ['role:a', 'role:b', 'role:c']);
  });
});

describe('explain-report: explainReport', () => {
  it('an allow: the deciding and matching lines with how the user holds their subjects, no warning', async () => {
    const engine = await IndexedEngine.build(sourceOf(['p, authenticated, chat:*, subscribe, allow', 'g, u1, role:a', 'p, role:a, chat:*, subscribe, allow', 'p, u1, chat:2, subscribe, allow']));
    const line = (n: number, rule: string) => ({ file: 'p.csv', line: n, rule });
    const implicit = { start: 'implicit', name: 'authenticated', links: [] };
    const viaG = { start: 'user', name: 'u1', links: [line(2, 'g, u1, role:a')] };
    assert.deepEqual(explainReport(engine, query({})), {
      decision: 'allow',
      policy_version: 'v1',
      deciding: [
        { ...line(1, 'p, authenticated, chat:*, subscribe, allow'), subject_via: implicit },
        { ...line(3, 'p, role:a, chat:*, subscribe, allow'), subject_via: viaG },
      ],
      matched: [
        { ...line(1, 'p, authenticated, chat:*, subscribe, allow'), subject_via: implicit },
        { ...line(3, 'p, role:a, chat:*, subscribe, allow'), subject_via: viaG },
      ],
      near_misses: [{ ...line(4, 'p, u1, chat:2, subscribe, allow'), why: '"chat:1" does not match "chat:2"' }],
      warnings: [],
    });
  });

  it('a deny by default, an unknown action warned about, role prefixes passed through', async () => {
    const engine = await IndexedEngine.build(sourceOf(['p, grp:x, chat:*, publish, allow']), { rolePrefixes: ['grp:'] });
    assert.deepEqual(explainReport(engine, query({ user: 'grp:x', action: 'publsh' }), ['grp:']), {
      decision: 'deny',
      policy_version: 'v1',
      deciding: [],
      matched: [],
      near_misses: [],
      warnings: ['unknown action "publsh" (did you mean "publish"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc'],
    });
    // Without the prefixes grp:x is the user's own ID, and the publish line is for the action meant.
    assert.deepEqual(explainReport(engine, query({ user: 'grp:x', action: 'publsh' })).near_misses, [
      { file: 'p.csv', line: 1, rule: 'p, grp:x, chat:*, publish, allow', why: 'it is for publish, not publsh' },
    ]);
    assert.deepEqual(explainReport(engine, query({ user: 'grp:x', action: 'publish' }), ['grp:']).near_misses, [
      { file: 'p.csv', line: 1, rule: 'p, grp:x, chat:*, publish, allow', why: 'the user\'s ID "grp:x" is a role name, and a user ID never acts as a role' },
    ]);
  });

  it('a matched line whose subject the user holds by no route has no subject_via', () => {
    // An engine that answers a line the role graph cannot explain (a future engine, or a bug):
    // the report says nothing about how rather than failing.
    const source = sourceOf(['p, role:z, chat:*, subscribe, deny']);
    const [rule] = source.rules;
    const answer: Explanation = { allowed: false, deciding: [rule as never], matched: [rule as never], version: 'v1' };
    const engine: PolicyEngine = { version: 'v1', evaluator: 'fake', source, decide: () => false, explain: () => answer };
    const report = explainReport(engine, query({}));
    assert.deepEqual(report.deciding, [{ file: 'p.csv', line: 1, rule: 'p, role:z, chat:*, subscribe, deny', subject_via: undefined }]);
    assert.equal(JSON.stringify(report.matched), '[{"file":"p.csv","line":1,"rule":"p, role:z, chat:*, subscribe, deny"}]');
  });
});
