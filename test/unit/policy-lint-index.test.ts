/**
 * The "allow never takes effect" lint looks denies up through an index (a pairwise scan took
 * minutes at 100,000 rules). Its findings must be exactly those of the plain pairwise scan,
 * written here independently: every allow against every deny in file order, first deny wins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unreachableAllows } from '../../src/policy/lint-overrides.js';
import { RoleGraph } from '../../src/policy/lint-roles.js';
import { parsePolicyText, type PolicyRule } from '../../src/policy/policy-source.js';
import { generatePolicy } from '../helpers/policy-generator.js';

const at = (rule: PolicyRule) => `${rule.location.file}:${rule.location.line}`;

/** A deny pattern covers an allow pattern: equal, only stars, or a plain `prefix*` the allow starts with. */
function plainCovers(deny: string, allow: string): boolean {
  if (deny === allow || (deny.length > 0 && [...deny].every((c) => c === '*'))) return true;
  const body = deny.slice(0, -1);
  return deny.endsWith('*') && !body.includes('*') && !deny.includes('{user}') && allow.startsWith(body);
}

/** The pairwise scan: for each allow, the first deny in file order that overrides it. */
function pairwise(rules: readonly PolicyRule[], graph: RoleGraph): string[] {
  const out: string[] = [];
  for (const allow of rules) {
    if (allow.ptype !== 'p' || allow.values[3] !== 'allow') continue;
    const [subject = '', pattern = '', action] = allow.values;
    const deny = rules.find((d) => {
      if (d.ptype !== 'p' || d.values[3] !== 'deny' || d.values[2] !== action || !plainCovers(d.values[1] ?? '', pattern)) return false;
      const who = d.values[0] ?? '';
      if (who === subject) return true;
      if (who === 'authenticated' && subject !== 'anonymous') return true;
      return (graph.chain(subject, who)?.length ?? 0) > 0;
    });
    if (deny) out.push(`${at(allow)} ← ${at(deny)}`);
  }
  return out;
}

const indexed = (rules: readonly PolicyRule[], graph: RoleGraph) =>
  unreachableAllows(rules, graph).map(({ rule, message }) => `${at(rule)} ← ${/: (\S+:\d+) denies/.exec(message)?.[1]}`);

describe('lint: unreachable allows through the deny index = the pairwise scan', () => {
  for (const [seed, size] of [
    [1, 300],
    [2, 1500],
    [3, 4000],
    [4, 800],
  ] as const) {
    it(`generated policy, seed ${seed}, ${size} rules (with boundary cases)`, () => {
      const { rules } = generatePolicy(seed, size, undefined, { boundaries: true }).source;
      const graph = RoleGraph.of(rules);
      const expected = pairwise(rules, graph);
      assert.ok(expected.length > 0, 'the generated policy has overridden allows to find');
      assert.deepEqual(indexed(rules, graph), expected);
    });
  }

  it('hand-made cases: stars, prefixes, {user}, inherited roles, authenticated, anonymous, the first deny in file order', () => {
    const rules = parsePolicyText(
      [
        'p, role:a, chat:room, subscribe, allow', // 1: 4 (inherited role, exact), 5 and 6 also cover it but come later
        'p, role:a, chat:*, subscribe, allow', // 2: overridden by 6 (** covers everything)
        'p, anonymous, news:x, subscribe, allow', // 3: authenticated does not cover anonymous
        'p, role:b, chat:room, subscribe, deny', // 4: role:a inherits role:b (line 9)
        'p, role:a, chat:*, subscribe, deny', // 5
        'p, role:c, **, subscribe, deny', // 6: role:a → role:b → role:c
        'p, authenticated, news:*, subscribe, deny', // 7
        'p, role:a, personal:{user}, subscribe, allow', // 8: 11 ({user}*) is no prefix deny; 6 (**) is
        'g, role:a, role:b', // 9
        'g, role:b, role:c', // 10
        'p, role:a, personal:{user}*, subscribe, deny', // 11
        'p, role:a, chat:room, publish, allow', // 12: another action, never overridden
        'p, role:d, chat:lobby, subscribe, allow', // 13: 14's prefix is the whole of this pattern
        'p, role:d, chat:lobby*, subscribe, deny', // 14
      ].join('\n'),
      'p.csv',
    );
    const graph = RoleGraph.of(rules);
    const expected = pairwise(rules, graph);
    assert.deepEqual(expected, ['p.csv:1 ← p.csv:4', 'p.csv:2 ← p.csv:5', 'p.csv:8 ← p.csv:6', 'p.csv:13 ← p.csv:14']);
    assert.deepEqual(indexed(rules, graph), expected);
  });
});
