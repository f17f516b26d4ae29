/**
 * The indexed engine against plain casbin on generated policies: the same answer for every
 * request, and the same deciding and matched rules in explain. Seeded, so a failure names a
 * seed and a request that reproduce it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CasbinEngine } from '../../src/policy/casbin-engine.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { modelShape } from '../../src/policy/model-shape.js';
import { buildEngine } from '../../src/policy/policy-store.js';
import { DEFAULT_MODEL, generatePolicy } from '../helpers/policy-generator.js';
import { ROOT } from '../helpers/harness.js';

const lines = (rules: readonly { location: { line: number } }[]) => rules.map((r) => r.location.line);

describe('indexed engine = casbin (differential, seeded)', () => {
  for (const [seed, ruleCount, requestCount] of [
    [1, 300, 6000],
    [2, 1500, 1500],
    [3, 60, 6000],
  ] as const) {
    it(`seed ${seed}: ${ruleCount} rules, ${requestCount} requests`, async () => {
      const generated = generatePolicy(seed, ruleCount);
      const [indexed, casbin] = await Promise.all([IndexedEngine.build(generated.source), CasbinEngine.build(generated.source)]);
      let allowed = 0;
      for (const query of generated.requests(requestCount)) {
        const expected = casbin.decide(query);
        assert.equal(indexed.decide(query), expected, `seed ${seed}: ${JSON.stringify(query)}`);
        if (expected) allowed++;
      }
      // A generator that only produced denies (or allows) would prove little.
      assert.ok(allowed > requestCount * 0.05 && allowed < requestCount * 0.95, `allowed ${allowed} of ${requestCount}`);
    });
  }

  it('explain reports the same deciding and matched lines as casbin', async () => {
    const generated = generatePolicy(4, 200);
    const [indexed, casbin] = await Promise.all([IndexedEngine.build(generated.source), CasbinEngine.build(generated.source)]);
    for (const query of generated.requests(500)) {
      const a = indexed.explain(query);
      const b = casbin.explain(query);
      assert.equal(a.allowed, b.allowed, JSON.stringify(query));
      assert.deepEqual(lines(a.matched), lines(b.matched), JSON.stringify(query));
      assert.deepEqual(lines(a.deciding), lines(b.deciding), JSON.stringify(query));
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
    const [indexed, casbin] = await Promise.all([IndexedEngine.build(source), CasbinEngine.build(source)]);
    for (let i = 1; i <= 15; i++) {
      for (const query of [
        { user: 'alice', roles: [], action: 'subscribe', object: `ch${i}` },
        { user: 'bob', roles: ['role:a', 'role:3'], action: 'subscribe', object: `ch${i}` },
      ]) {
        assert.equal(indexed.decide(query), casbin.decide(query), JSON.stringify(query));
      }
    }
    assert.equal(indexed.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'ch10' }), true);
    assert.equal(indexed.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'ch11' }), false);
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
