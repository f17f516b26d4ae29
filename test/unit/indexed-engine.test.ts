/**
 * Both engines (the index and the casbin fallback) against an independent oracle
 * (test/helpers/casbin-oracle.ts: plain casbin with its own regex matcher and real g lines for
 * token roles) on generated policies with boundary cases: the same answer for every request,
 * and the same deciding and matched rules in explain. Seeded, so a failure names a seed and a
 * request that reproduce it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CasbinEngine } from '../../src/policy/casbin-engine.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { modelShape } from '../../src/policy/model-shape.js';
import { SMALL_GROUPS_LIMIT } from '../../src/policy/pattern-groups.js';
import { buildEngine } from '../../src/policy/policy-store.js';
import { CasbinOracle } from '../helpers/casbin-oracle.js';
import { DEFAULT_MODEL, generatePolicy } from '../helpers/policy-generator.js';
import { ROOT } from '../helpers/harness.js';

/** POLICY_DIFF_SCALE < 1 (npm run mutation sets 0.03) asks fewer requests of at most 300 rules; the fixed cases in policy-boundaries.test.ts stay whole. */
const SCALE = Number(process.env.POLICY_DIFF_SCALE ?? 1);
const lines = (rules: readonly { location: { line: number } }[]) => rules.map((r) => r.location.line);

describe('indexed engine = casbin engine = independent oracle (differential, seeded)', () => {
  for (const [seed, fullRules, fullCount] of [
    [1, 300, 3000],
    [2, 1500, 800],
    [3, 60, 4000],
    [5, 120, 3000],
  ] as const) {
    const requestCount = Math.max(100, Math.round(fullCount * SCALE));
    const ruleCount = SCALE < 1 ? Math.min(fullRules, 300) : fullRules;
    it(`seed ${seed}: ${ruleCount} rules, ${requestCount} requests`, async () => {
      const generated = generatePolicy(seed, ruleCount, DEFAULT_MODEL, { boundaries: true });
      const [indexed, casbin, oracle] = await Promise.all([
        IndexedEngine.build(generated.source),
        CasbinEngine.build(generated.source),
        CasbinOracle.build(generated.source.rules),
      ]);
      let allowed = 0;
      for (const query of generated.requests(requestCount)) {
        const expected = await oracle.decide(query);
        assert.equal(indexed.decide(query), expected, `indexed, seed ${seed}: ${JSON.stringify(query)}`);
        assert.equal(casbin.decide(query), expected, `casbin engine, seed ${seed}: ${JSON.stringify(query)}`);
        if (expected) allowed++;
      }
      // A generator that only produced denies (or allows) would prove little.
      assert.ok(allowed > requestCount * 0.05 && allowed < requestCount * 0.95, `allowed ${allowed} of ${requestCount}`);
    });
  }

  it('explain reports the deciding and matched lines the oracle finds, in both engines', async () => {
    const generated = generatePolicy(4, 200, DEFAULT_MODEL, { boundaries: true });
    const [indexed, casbin, oracle] = await Promise.all([
      IndexedEngine.build(generated.source),
      CasbinEngine.build(generated.source),
      CasbinOracle.build(generated.source.rules),
    ]);
    for (const query of generated.requests(Math.max(100, Math.round(800 * SCALE)))) {
      const want = await oracle.explain(query);
      for (const [name, got] of [
        ['indexed', indexed.explain(query)],
        ['casbin', casbin.explain(query)],
      ] as const) {
        assert.equal(got.allowed, want.allowed, `${name}: ${JSON.stringify(query)}`);
        assert.deepEqual(lines(got.matched), lines(want.matched), `${name}: ${JSON.stringify(query)}`);
        assert.deepEqual(lines(got.deciding), lines(want.deciding), `${name}: ${JSON.stringify(query)}`);
        assert.equal(got.version, generated.source.version);
      }
    }
  });

  it('role chains longer than casbin follows (10 links) stop where casbin stops, and cycles end', async () => {
    const chain = Array.from({ length: 14 }, (_, i) => ({ ptype: 'g', values: [i === 0 ? 'alice' : `role:${i}`, `role:${i + 1}`], location: { file: 'c.csv', line: i + 1 } }));
    const cycle = [
      { ptype: 'g', values: ['role:a', 'role:b'], location: { file: 'c.csv', line: 20 } },
      { ptype: 'g', values: ['role:b', 'role:a'], location: { file: 'c.csv', line: 21 } },
    ];
    const grants = Array.from({ length: 15 }, (_, i) => ({ ptype: 'p', values: [`role:${i + 1}`, `ch${i + 1}`, 'subscribe', 'allow'], location: { file: 'c.csv', line: 30 + i } }));
    const source = { modelText: DEFAULT_MODEL, modelFile: 'm', rules: [...chain, ...cycle, ...grants], files: [], version: 'chain' };
    const [indexed, casbin, oracle] = await Promise.all([IndexedEngine.build(source), CasbinEngine.build(source), CasbinOracle.build(source.rules)]);
    for (let i = 1; i <= 15; i++) {
      for (const query of [
        { user: 'alice', roles: [], action: 'subscribe', object: `ch${i}` },
        { user: 'bob', roles: ['role:a', 'role:3'], action: 'subscribe', object: `ch${i}` },
        { user: 'role:2', roles: [], action: 'subscribe', object: `ch${i}` },
      ]) {
        const expected = await oracle.decide(query);
        assert.equal(indexed.decide(query), expected, `indexed: ${JSON.stringify(query)}`);
        assert.equal(casbin.decide(query), expected, `casbin: ${JSON.stringify(query)}`);
      }
    }
    // Token roles follow 10 links from the role itself, as a subject's own g lines do.
    assert.equal(indexed.decide({ user: 'bob', roles: ['role:3'], action: 'subscribe', object: 'ch13' }), true);
    assert.equal(indexed.decide({ user: 'bob', roles: ['role:3'], action: 'subscribe', object: 'ch14' }), false);
    assert.equal(indexed.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'ch10' }), true);
    assert.equal(indexed.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'ch11' }), false);
  });
});

/** A policy from `p` lines given as [subject, object, effect] (action subscribe) and `g` lines, numbered in order. */
function policyOf(pLines: ReadonlyArray<readonly [string, string, string]>, gLines: ReadonlyArray<readonly [string, string]> = []) {
  const rules = [
    ...gLines.map(([member, role]) => ({ ptype: 'g', values: [member, role] })),
    ...pLines.map(([subject, object, effect]) => ({ ptype: 'p', values: [subject, object, 'subscribe', effect] })),
  ].map((rule, i) => ({ ...rule, location: { file: 'b.csv', line: i + 1 } }));
  return { modelText: DEFAULT_MODEL, modelFile: 'm', rules, files: [], version: 'boundary' };
}

/** The indexed engine gives casbin's answer and explain lines for every object asked. */
async function assertSameAsCasbin(source: ReturnType<typeof policyOf>, objects: readonly string[], user = 'alice', roles: string[] = []): Promise<void> {
  const [indexed, casbin] = await Promise.all([IndexedEngine.build(source), CasbinEngine.build(source)]);
  for (const object of objects) {
    const query = { user, roles, action: 'subscribe', object };
    const [got, want] = [indexed.explain(query), casbin.explain(query)];
    assert.equal(indexed.decide(query), casbin.decide(query), `decide ${object}`);
    assert.equal(got.allowed, want.allowed, `explain ${object}`);
    assert.deepEqual(lines(got.matched), lines(want.matched), `matched ${object}`);
    assert.deepEqual(lines(got.deciding), lines(want.deciding), `deciding ${object}`);
  }
}

describe('index boundaries (pattern-groups.ts)', () => {
  // Exact, prefix and open patterns, so the indexed form has every kind of entry to carry over.
  const kinds = (n: number) => Array.from({ length: n }, (_, i) => ['alice', i % 3 === 0 ? `exact${i}` : i % 3 === 1 ? `pre${i}:*` : `*:end${i}`, 'allow'] as const);
  const asked = (n: number) => Array.from({ length: n }, (_, i) => [`exact${i}`, `pre${i}:x`, `a:end${i}`, `pre${i}`]).flat();

  for (const count of [1, 2, 3, SMALL_GROUPS_LIMIT, SMALL_GROUPS_LIMIT + 1, SMALL_GROUPS_LIMIT + 2]) {
    it(`a subject with ${count} patterns (one alone, a list up to ${SMALL_GROUPS_LIMIT}, then an index) finds every one of them`, async () => {
      await assertSameAsCasbin(policyOf(kinds(count)), [...asked(count), 'nothing']);
    });
  }

  it('a deny after many allows of the same object and subject still denies, and explain lists every line in file order', async () => {
    const allows = Array.from({ length: 20 }, (_, i) => ['alice', i % 2 ? 'chat:*' : `chat:room${i}`, 'allow'] as const);
    const source = policyOf([...allows, ['alice', 'chat:room4', 'deny'], ['alice', 'chat:*', 'allow']]);
    const indexed = await IndexedEngine.build(source);
    assert.equal(indexed.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'chat:room4' }), false);
    await assertSameAsCasbin(source, ['chat:room4', 'chat:room2', 'chat:x']);
  });

  it('a deny on a role reached after the role that allows still denies (allows are not enough to stop looking)', async () => {
    const source = policyOf(
      [
        ['role:a', 'chat:*', 'allow'],
        ['role:c', 'chat:secret', 'deny'],
      ],
      [
        ['alice', 'role:a'],
        ['role:a', 'role:b'],
        ['role:b', 'role:c'],
      ],
    );
    await assertSameAsCasbin(source, ['chat:secret', 'chat:open']);
    await assertSameAsCasbin(source, ['chat:secret', 'chat:open'], 'bob', ['role:b']);
  });

  it('one pattern on several lines of a subject that has no other: every line is matched', async () => {
    await assertSameAsCasbin(policyOf([['alice', 'chat:*', 'allow'], ['bob', 'x', 'allow'], ['alice', 'chat:*', 'allow']]), ['chat:1', 'x']);
  });

  it('prefix buckets of equal length and one pattern on many lines', async () => {
    const many = Array.from({ length: SMALL_GROUPS_LIMIT + 1 }, (_, i) => ['alice', `p${i}:*`, 'allow'] as const);
    const source = policyOf([...many, ['alice', 'ab:*', 'allow'], ['alice', 'cd:*', 'deny'], ['alice', 'ab:*', 'deny'], ['alice', 'ab:*', 'allow']]);
    await assertSameAsCasbin(source, ['ab:x', 'cd:x', 'ef:x', 'ab', 'p3:y', 'p3']);
  });
});

describe('which evaluator a model gets', () => {
  it('the shipped model is indexed; a changed matcher or effect falls back to casbin, saying why', async () => {
    assert.deepEqual(modelShape(DEFAULT_MODEL), { indexable: true });
    assert.equal((await buildEngine({ model: `${ROOT}/policies/model.conf`, policy: `${ROOT}/policies/policy.csv` })).evaluator, 'indexed');
    const reordered = DEFAULT_MODEL.replace('r.act == p.act && g(r.sub, p.sub)', 'g(r.sub,p.sub)&&r.act == p.act');
    assert.deepEqual(modelShape(reordered), { indexable: true });
    assert.deepEqual(modelShape(DEFAULT_MODEL.replace('objectMatch(r.obj, p.obj, r.sub)', 'keyMatch(r.obj, p.obj)')), {
      indexable: false,
      reason: 'matcher is not "r.act==p.act && g(r.sub,p.sub) && objectMatch(r.obj,p.obj,r.sub)"',
    });
    assert.deepEqual(modelShape(DEFAULT_MODEL.replace('&& !some(where (p.eft == deny))', '')), { indexable: false, reason: 'policy_effect is not deny-override' });
  });
});
