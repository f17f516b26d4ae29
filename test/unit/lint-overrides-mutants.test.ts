/**
 * The "allow never takes effect" lint (lint-overrides.ts), case by case with exact findings: what
 * the mutation run of that file (TESTING.md) showed the generated and hand-made comparisons in
 * policy-lint-index.test.ts leave open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { covers, unreachableAllows } from '../../src/policy/lint-overrides.js';
import { RoleGraph } from '../../src/policy/lint-roles.js';
import { parsePolicyText } from '../../src/policy/policy-source.js';

const findings = (lines: string[]) => {
  const rules = parsePolicyText(lines.join('\n'), 'p.csv');
  return unreachableAllows(rules, RoleGraph.of(rules)).map(({ rule, message }) => `${rule.location.line}: ${message}`);
};

describe('lint-overrides: covers', () => {
  it('only stars covers everything, whatever the count', () => {
    for (const deny of ['*', '**', '***']) {
      for (const allow of ['', 'x', 'chat:room', '*', '{user}']) assert.equal(covers(deny, allow), true, `${deny} covers ${allow}`);
    }
  });

  it('a star elsewhere than at the end covers only the same pattern', () => {
    assert.equal(covers('*a', 'b'), false);
    assert.equal(covers('*a', 'xa'), false);
    assert.equal(covers('a*b', 'axb'), false);
    assert.equal(covers('a**', 'a'), false);
    assert.equal(covers('*a', '*a'), true);
  });

  it('a plain prefix* covers what starts with the prefix, not what only ends with it', () => {
    assert.equal(covers('chat:*', 'chat:'), true);
    assert.equal(covers('chat:*', 'chat:room'), true);
    assert.equal(covers('chat:*', 'chat:r*'), true);
    assert.equal(covers('chat:*', 'chat'), false);
    assert.equal(covers('chat:*', 'xchat:'), false);
    assert.equal(covers('ab*', 'xab'), false);
    assert.equal(covers('ab*', 'ax'), false);
  });

  it('a pattern with {user} covers only itself', () => {
    assert.equal(covers('p:{user}*', 'p:{user}x'), false);
    assert.equal(covers('{user}*', '{user}'), false);
    assert.equal(covers('p:{user}', 'p:{user}'), true);
    assert.equal(covers('x', 'y'), false);
  });
});

describe('lint-overrides: unreachableAllows, exact findings', () => {
  it('names every g line of a two-hop inheritance, comma-separated', () => {
    assert.deepEqual(
      findings(['p, role:a, chat:x, subscribe, allow', 'g, role:a, role:b', 'g, role:b, role:c', 'p, role:c, chat:*, subscribe, deny']),
      ['1: this allow never takes effect: p.csv:4 denies role:c, which role:a inherits (g at p.csv:2, g at p.csv:3) the same action for every object it matches'],
    );
  });

  it('anonymous reaches an authenticated deny only through a g line, and says so', () => {
    assert.deepEqual(
      findings(['p, anonymous, news:1, subscribe, allow', 'g, anonymous, authenticated', 'p, authenticated, news:*, subscribe, deny']),
      ['1: this allow never takes effect: p.csv:3 denies authenticated, which anonymous inherits (g at p.csv:2) the same action for every object it matches'],
    );
    assert.deepEqual(findings(['p, anonymous, news:1, subscribe, allow', 'p, authenticated, news:*, subscribe, deny']), []);
  });

  it('reads only p lines: a p2 deny overrides nothing and a p2 allow is not reported', () => {
    assert.deepEqual(findings(['p, role:a, chat:x, subscribe, allow', 'p2, role:a, chat:*, subscribe, deny']), []);
    assert.deepEqual(findings(['p2, role:a, chat:x, subscribe, allow', 'p, role:a, chat:*, subscribe, deny']), []);
  });
});

describe('lint-roles: RoleGraph keeps every g line of a member', () => {
  it('a member granted two roles reaches both, and each chain names its own line', () => {
    const rules = parsePolicyText(['g, alice, role:a', 'g, alice, role:b'].join('\n'), 'p.csv');
    const graph = RoleGraph.of(rules);
    assert.deepEqual([...graph.closure('alice')], ['alice', 'role:a', 'role:b']);
    assert.deepEqual(graph.chain('alice', 'role:a')?.map((e) => e.rule.location.line), [1]);
  });
});
