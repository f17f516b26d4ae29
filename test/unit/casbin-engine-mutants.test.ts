/**
 * casbin-engine.ts beyond the shipped model (StrykerJS survivors, TESTING.md "Fifth pass"): the
 * evaluator's name, models casbin refuses and the messages, other `p` shapes (the effect first,
 * no effect at all) and their explanation through casbin, `g` arity, and which rules the default
 * model's explanation lists.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CasbinEngine } from '../../src/policy/casbin-engine.js';
import type { PolicyQuery } from '../../src/policy/engine.js';
import { PolicySourceError, readPolicySource } from '../../src/policy/policy-source.js';
import { ROOT } from '../helpers/harness.js';

const SHIPPED_MODEL = `${ROOT}/policies/model.conf`;

/** A model text with the shipped request and role definitions and the given p, e and m lines. */
const model = (p: string, e: string, m: string): string =>
  `[request_definition]\nr = sub, obj, act\n\n[policy_definition]\np = ${p}\n\n[role_definition]\ng = _, _\n\n[policy_effect]\ne = ${e}\n\n[matchers]\nm = ${m}\n`;

/** Writes the files and builds; `modelText` undefined means the shipped model. */
async function build(csv: string, modelText?: string, why?: string): Promise<CasbinEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-casbin-mutants-'));
  writeFileSync(join(dir, 'policy.csv'), csv);
  let modelFile = SHIPPED_MODEL;
  if (modelText !== undefined) {
    modelFile = join(dir, 'model.conf');
    writeFileSync(modelFile, modelText);
  }
  return CasbinEngine.build(readPolicySource(modelFile, join(dir, 'policy.csv')), why);
}

/** The refusal's text with the temp directory cut off. */
async function refusal(csv: string, modelText?: string): Promise<string> {
  try {
    await build(csv, modelText);
  } catch (err) {
    assert.ok(err instanceof PolicySourceError, String(err));
    return err.describe().replace(/^.*\/cpp-casbin-mutants-[^/]+\//, '');
  }
  return assert.fail('expected the policy to be refused');
}

const ask = (user: string, action: string, object: string, roles: string[] = []): PolicyQuery => ({ user, roles, action, object });
const lines = (rules: ReadonlyArray<{ location: { line: number } }>): number[] => rules.map((r) => r.location.line);

describe('casbin engine: evaluator name', () => {
  it('"casbin", or "casbin (why)" when the model is not indexable', async () => {
    assert.equal((await build('p, a, b, subscribe, allow\n')).evaluator, 'casbin');
    assert.equal((await build('p, a, b, subscribe, allow\n', undefined, 'matcher uses keyMatch')).evaluator, 'casbin (matcher uses keyMatch)');
  });
});

describe('casbin engine: models and rules refused', () => {
  // [what, model text, csv, message]
  const cases: Array<[string, string, string, string]> = [
    ['a model that is not INI', 'garbage', 'p, a, b, c, allow\n', 'model.conf: invalid model: parse the content error : line 1'],
    [
      'a matcher calling an unknown function',
      model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'nosuch(r.obj) && r.act == p.act'),
      'p, a, b, c, allow\n',
      'model.conf: matcher cannot be evaluated: matcher result should only be of type boolean, number, or string',
    ],
    ['a g line with three values', model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'r.act == p.act'), 'g, a, b, c\n', 'policy.csv:1: "g" takes 2 values (arg0, arg1), got 3'],
    ['a g line with one value', model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'r.act == p.act'), 'g, a\n', 'policy.csv:1: "g" takes 2 values (arg0, arg1), got 1'],
    [
      'a misspelt effect in the first column',
      model('eft, sub, obj, act', 'some(where (p.eft == allow))', 'r.sub == p.sub && r.obj == p.obj && r.act == p.act'),
      'p, allow, alice, x, publish\np, alow, alice, x, publish\n',
      'policy.csv:2: effect must be "allow" or "deny", got "alow"',
    ],
    [
      'a matcher calling an unknown function behind a test only a connect question passes',
      model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'r.act == p.act && nosuch(r.obj)'),
      'p, a, b, connect, allow\n',
      'model.conf: matcher cannot be evaluated: matcher result should only be of type boolean, number, or string',
    ],
    [
      // The self-check asks as a signed-in user: a policy for authenticated users gets past g.
      'a matcher calling an unknown function behind g, with rules for authenticated users only',
      model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'g(r.sub, p.sub) && nosuch(r.obj)'),
      'p, authenticated, b, connect, allow\n',
      'model.conf: matcher cannot be evaluated: matcher result should only be of type boolean, number, or string',
    ],
    [
      'a g line when the model has no role definition',
      '[request_definition]\nr = sub, obj, act\n\n[policy_definition]\np = sub, obj, act, eft\n\n[policy_effect]\ne = some(where (p.eft == allow))\n\n[matchers]\nm = r.sub == p.sub && r.act == p.act\n',
      'p, a, b, c, allow\ng, a, b\n',
      'policy.csv:2: policy type "g" is not defined in the model',
    ],
    ['an empty object', model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'r.act == p.act'), 'p, a, b, c, allow\np, a, "", c, allow\n', 'policy.csv:2: empty value (use a role such as "anonymous" instead of an empty subject)'],
  ];
  for (const [what, modelText, csv, message] of cases) {
    it(what, async () => {
      assert.equal(await refusal(csv, modelText), message);
    });
  }
});

describe('casbin engine: a p shape with the effect first', () => {
  const modelText = model('eft, sub, obj, act', 'some(where (p.eft == allow)) && !some(where (p.eft == deny))', 'g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act');
  const csv = 'p, allow, alice, x, publish\np, deny, alice, y, publish\np, allow, alice, y, publish\n';

  it('decides by the effect column wherever it is', async () => {
    const e = await build(csv, modelText);
    assert.deepEqual([ask('alice', 'publish', 'x'), ask('alice', 'publish', 'y'), ask('bob', 'publish', 'x')].map((q) => e.decide(q)), [true, false, false]);
  });

  it('is explained through casbin: the line it names, found by its values', async () => {
    const e = await build(csv, modelText);
    const x = e.explain(ask('alice', 'publish', 'y'));
    assert.equal(x.allowed, false);
    assert.deepEqual(lines(x.deciding), [2]);
    assert.deepEqual(lines(x.matched), [2]);
    assert.equal(x.version, e.version);
  });
});

describe('casbin engine: a p shape without an effect', () => {
  // Without p.eft casbin counts every matching line as an allow.
  const modelText = model('sub, obj, act', 'some(where (p.eft == allow))', 'g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act');
  // Line 2's values run together into line 1's text: only a separator keeps them apart.
  const csv = 'p, alice, chat:1, publish\np, alicechat, :1, publish\ng, bob, alice\n';

  it('builds and decides', async () => {
    const e = await build(csv, modelText);
    assert.deepEqual([ask('bob', 'publish', 'chat:1'), ask('bob', 'publish', 'chat:2'), ask('carol', 'publish', 'chat:1')].map((q) => e.decide(q)), [true, false, false]);
  });

  it('names exactly the line casbin matched, not one whose values join to the same text', async () => {
    const e = await build(csv, modelText);
    const x = e.explain(ask('bob', 'publish', 'chat:1'));
    assert.equal(x.allowed, true);
    assert.deepEqual(lines(x.deciding), [1]);
    assert.deepEqual(lines(x.matched), [1]);
    const none = e.explain(ask('carol', 'publish', 'chat:1'));
    assert.deepEqual([none.allowed, lines(none.deciding), lines(none.matched)], [false, [], []]);
  });
});

describe('casbin engine: explain on the shipped model', () => {
  const csv = [
    'p, role:m, chat:*, publish, allow', // 1
    'p, role:m, chat:*, subscribe, allow', // 2: another action
    'p, role:m, news:*, publish, allow', // 3: another object
    'p, role:other, chat:*, publish, allow', // 4: another subject
    'p, authenticated, chat:{user}, publish, allow', // 5: the user's own channel
    'p, 7, chat:ro, publish, deny', // 6
    'g, 7, role:m', // 7
    '',
  ].join('\n');

  it('an allow is decided by every matching allow line; lines of other actions, objects or subjects are not matched', async () => {
    const e = await build(csv);
    const x = e.explain(ask('7', 'publish', 'chat:7'));
    assert.deepEqual([x.allowed, lines(x.deciding), lines(x.matched)], [true, [1, 5], [1, 5]]);
  });

  it('a deny is decided by the deny lines alone, the allows still listed as matched', async () => {
    const e = await build(csv);
    const x = e.explain(ask('7', 'publish', 'chat:ro'));
    assert.deepEqual([x.allowed, lines(x.deciding), lines(x.matched)], [false, [6], [1, 6]]);
  });

  it('nothing matched: a default deny with no lines', async () => {
    const e = await build(csv);
    const x = e.explain(ask('8', 'publish', 'chat:x'));
    assert.deepEqual([x.allowed, lines(x.deciding), lines(x.matched)], [false, [], []]);
  });

  it('token roles count for the request that carries them only', async () => {
    const e = await build(csv);
    assert.deepEqual(lines(e.explain(ask('8', 'publish', 'chat:x', ['role:other'])).deciding), [4]);
    assert.deepEqual(lines(e.explain(ask('8', 'publish', 'chat:x')).matched), []);
  });
});

describe('casbin engine: role functions other than g(r.sub, p.sub)', () => {
  it('g2 lines go to the g2 role function (object groups)', async () => {
    const modelText = model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'g(r.sub, p.sub) && g2(r.obj, p.obj) && r.act == p.act').replace('g = _, _', 'g = _, _\ng2 = _, _');
    const e = await build('p, role:m, rooms, subscribe, allow\ng2, chat:1, rooms\ng, 7, role:m\n', modelText);
    assert.deepEqual([ask('7', 'subscribe', 'chat:1'), ask('7', 'subscribe', 'chat:2'), ask('8', 'subscribe', 'chat:1'), ask('8', 'subscribe', 'chat:1', ['role:m'])].map((q) => e.decide(q)), [true, false, false, true]);
  });

  it("a matcher asking g about the object: the request's roles belong to the user, never to the object", async () => {
    const modelText = model('sub, obj, act, eft', 'some(where (p.eft == allow))', 'g(r.sub, p.sub) && g(r.obj, p.obj) && r.act == p.act');
    const e = await build('p, role:staff, docs, read, allow\np, role:staff, authenticated, read, allow\ng, doc1, docs\n', modelText);
    assert.equal(e.decide(ask('7', 'read', 'doc1', ['role:staff'])), true);
    // Neither the token role "docs" nor the implicit "authenticated" makes doc2 a member.
    assert.equal(e.decide(ask('7', 'read', 'doc2', ['role:staff', 'docs'])), false);
    assert.equal(e.decide(ask('7', 'read', 'doc2', ['role:staff'])), false);
  });
});
