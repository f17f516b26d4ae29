/**
 * Fixed boundary cases, each with the answer the README's "Policies" semantics give, checked
 * against the independent oracle and both engines (the index and the casbin fallback). These
 * are the requests a generator reaches only by luck: an object equal to a pattern's literal
 * prefix, metacharacters in IDs, role-named user IDs, anonymous requests carrying roles.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CasbinEngine } from '../../src/policy/casbin-engine.js';
import type { EngineOptions, PolicyEngine } from '../../src/policy/engine.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { roleNames } from '../../src/policy/role-names.js';
import type { PolicyRule, PolicySource } from '../../src/policy/policy-source.js';
import { CasbinOracle, oracleMatches } from '../helpers/casbin-oracle.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';

const POLICY = `
p, role:admin, *, publish, allow
p, role:admin, chat:archive:*, publish, deny
p, role:member, chat:*, subscribe, allow
p, role:member, chat:ro*, subscribe, deny
p, authenticated, personal:{user}, subscribe, allow
p, authenticated, inbox:{user}:*, subscribe, allow
p, anonymous, news:*, subscribe, allow
p, anonymous, *:{user}, publish, allow
p, authenticated, a.b:*, rpc, allow
p, authenticated, x+y, rpc, allow
p, authenticated, (g)*, rpc, allow
p, authenticated, {x}:*, rpc, allow
p, authenticated, q:{user}:end, publish, allow
p, 666, *, publish, deny
p, alice, docs:*, publish, allow
g, alice, editors
p, editors, wiki:*, publish, allow
g, bob, dave
p, dave, dave:*, publish, allow
p, role:guest, lobby, subscribe, allow
p, authenticated, pre:*:post, connect, allow
p, authenticated, *, refresh, allow
p, tenant:acme, acme:*, subscribe, allow
p, authenticated, open:*, subscribe, allow
p, role:shut, open:shut, subscribe, deny
p, role:yard, yard:*, subscribe, deny
p, role:yard, yard:*x, subscribe, allow
p, role:yard, hall, subscribe, deny
p, role:yard, hall, subscribe, allow
`;

function source(csv: string): PolicySource {
  const rules: PolicyRule[] = [];
  csv.split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    const [ptype = '', ...values] = text.split(',').map((v) => v.trim());
    rules.push({ ptype, values, location: { file: 'boundaries.csv', line: i } });
  });
  return { modelText: DEFAULT_MODEL, modelFile: 'model.conf', rules, files: ['boundaries.csv'], version: 'boundaries' };
}

// [note, user, roles, action, object, allowed]
type Case = [string, string, string[], string, string, boolean];
const CASES: Case[] = [
  // An object equal to a deny pattern's literal prefix is still denied (`chat:archive:*` matches `chat:archive:`).
  ['deny at the literal prefix', 'a', ['role:admin'], 'publish', 'chat:archive:', false],
  ['deny past the literal prefix', 'a', ['role:admin'], 'publish', 'chat:archive:1', false],
  ['one short of the deny prefix', 'a', ['role:admin'], 'publish', 'chat:archive', true],
  ['allow at the literal prefix', 'a', ['role:member'], 'subscribe', 'chat:', true],
  ['one short of the allow prefix', 'a', ['role:member'], 'subscribe', 'chat', false],
  ['deny prefix shorter than the object', 'a', ['role:member'], 'subscribe', 'chat:ro', false],
  ['deny prefix, longer object', 'a', ['role:member'], 'subscribe', 'chat:room', false],
  ['allow next to a deny prefix', 'a', ['role:member'], 'subscribe', 'chat:r', true],
  ['empty object against * and a prefix', 'a', ['role:admin'], 'publish', '', true],
  ['a star in the middle matches nothing between', 'a', [], 'connect', 'pre::post', true],
  ['a star in the middle, prefix only', 'a', [], 'connect', 'pre:', false],
  ['a star in the middle, suffix shared with prefix', 'a', [], 'connect', 'pre:post', false],
  // {user}
  ['{user} is the user', '56', [], 'subscribe', 'personal:56', true],
  ['{user} is not another user', '56', [], 'subscribe', 'personal:57', false],
  ['{user} is not a run of characters', '56', [], 'subscribe', 'personal:5x6', false],
  ['{user} is the whole ID, not a prefix of it', '56', [], 'subscribe', 'personal:5', false],
  ['{user} is the whole ID, not more', '5', [], 'subscribe', 'personal:56', false],
  ['{user} followed by a star', '56', [], 'subscribe', 'inbox:56:', true],
  ['{user} followed by a star, no separator', '56', [], 'subscribe', 'inbox:56', false],
  ['{user} in the middle', 'u', [], 'publish', 'q:u:end', true],
  ['{user} in the middle, wrong user', 'u', [], 'publish', 'q:v:end', false],
  ['{user} never matches anonymous', '', [], 'subscribe', 'personal:', false],
  ['{user} never matches anonymous, even after a star', '', [], 'publish', 'x:', false],
  ['anonymous with a role still gets nothing from {user}', '', ['role:member'], 'subscribe', 'personal:', false],
  ['a star in the user ID is literal', 'a*', [], 'subscribe', 'personal:a*', true],
  ['a star in the user ID is not a wildcard', 'a*', [], 'subscribe', 'personal:abc', false],
  ['a dot in the user ID is literal', 'a.c', [], 'subscribe', 'personal:abc', false],
  ['a dot in the user ID matches itself', 'a.c', [], 'subscribe', 'personal:a.c', true],
  ['regex classes in the user ID are literal', '[0-9]', [], 'subscribe', 'personal:5', false],
  ['regex classes in the user ID match themselves', '[0-9]', [], 'subscribe', 'personal:[0-9]', true],
  ['"{user}" as a user ID is literal', '{user}', [], 'subscribe', 'personal:{user}', true],
  ['a user ID with a colon', 'a:b', [], 'subscribe', 'inbox:a:b:c', true],
  ['a backslash in the user ID', 'a\\d', [], 'subscribe', 'personal:a\\d', true],
  ['a backslash in the user ID is no escape', 'a\\d', [], 'subscribe', 'personal:a5', false],
  // Metacharacters in patterns and objects.
  ['a dot in a pattern is literal', 'a', [], 'rpc', 'aXb:1', false],
  ['a dot in a pattern matches a dot', 'a', [], 'rpc', 'a.b:1', true],
  ['a plus in a pattern is literal', 'a', [], 'rpc', 'xxy', false],
  ['a plus in a pattern matches a plus', 'a', [], 'rpc', 'x+y', true],
  ['parentheses in a pattern are literal', 'a', [], 'rpc', 'g', false],
  ['parentheses in a pattern match themselves', 'a', [], 'rpc', '(g)1', true],
  ['braces other than {user} are literal', 'a', [], 'rpc', '{x}:', true],
  ['braces other than {user} match only themselves', 'a', [], 'rpc', 'x:1', false],
  ['a star in an object is an ordinary character', 'a', ['role:member'], 'subscribe', 'chat:*', true],
  // Roles and user IDs.
  ['a deny naming the user beats a role allow', '666', ['role:admin'], 'publish', 'chat:x', false],
  ['the user as subject', 'alice', [], 'publish', 'docs:1', true],
  ['the user through a g line', 'alice', [], 'publish', 'wiki:1', true],
  ['g lines do not pass on what names the member', 'bob', [], 'publish', 'docs:1', false],
  ['a g line to a plain name makes it a group', 'bob', [], 'publish', 'dave:1', true],
  ['a user ID that is a g group gets nothing through it', 'editors', [], 'publish', 'wiki:1', false],
  ['a user ID on the right of a g line is a role name', 'dave', [], 'publish', 'dave:1', false],
  ['a role-prefixed user ID gets nothing as that role', 'role:admin', [], 'publish', 'chat:x', false],
  ['a role-prefixed user ID keeps the implicit role', 'role:admin', [], 'subscribe', 'personal:role:admin', true],
  ['a user named "anonymous" is not anonymous', 'anonymous', [], 'subscribe', 'news:1', false],
  ['a user named "authenticated" is authenticated', 'authenticated', [], 'refresh', '', true],
  ['a token role grants', 'x', ['role:guest'], 'subscribe', 'lobby', true],
  ['anonymous with a token role', '', ['role:guest'], 'subscribe', 'lobby', true],
  ['anonymous with a token role keeps the implicit role', '', ['role:guest'], 'subscribe', 'news:1', true],
  ['anonymous is not authenticated', '', ['role:guest'], 'refresh', '', false],
  ['an unknown action', 'a', ['role:admin'], 'delete', 'chat:x', false],
  ['an exact deny of a later subject beats an earlier allow', 'a', ['role:shut'], 'subscribe', 'open:shut', false],
  ['two patterns with one literal prefix: the deny is kept', 'a', ['role:yard'], 'subscribe', 'yard:1x', false],
  ['two rules for one exact object: the deny is kept', 'a', ['role:yard'], 'subscribe', 'hall', false],
  ['tenant: is a user ID without the prefix option', 'tenant:acme', [], 'subscribe', 'acme:1', true],
];

async function engines(options: EngineOptions = {}): Promise<Array<[string, PolicyEngine]>> {
  const s = source(POLICY);
  return [
    ['indexed', await IndexedEngine.build(s, options)],
    ['casbin', await CasbinEngine.build(s, undefined, options)],
  ];
}

describe('policy boundary cases (oracle, indexed engine, casbin engine)', () => {
  it('the oracle gives every expected answer', async () => {
    const oracle = await CasbinOracle.build(source(POLICY).rules);
    for (const [note, user, roles, action, object, allowed] of CASES) {
      assert.equal(await oracle.decide({ user, roles, action, object }), allowed, note);
    }
  });

  it('both engines give every expected answer, in decide and explain', async () => {
    for (const [name, engine] of await engines()) {
      for (const [note, user, roles, action, object, allowed] of CASES) {
        const query = { user, roles, action, object };
        assert.equal(engine.decide(query), allowed, `${name}: ${note}`);
        assert.equal(engine.explain(query).allowed, allowed, `${name} explain: ${note}`);
      }
    }
  });

  it('explain names the deciding and matched lines, in both engines and the oracle', async () => {
    const at = (rules: readonly PolicyRule[]) => rules.map((r) => r.location.line);
    // [user, roles, action, object] → allowed, deciding lines, matched lines
    const explained: Array<[string, string[], string, string, boolean, number[], number[]]> = [
      ['666', ['role:admin', 'role:member'], 'publish', 'chat:archive:', false, [2, 14], [1, 2, 14]],
      ['a', ['role:member'], 'subscribe', 'chat:x', true, [3], [3]],
      ['a', ['role:member'], 'subscribe', 'chat:ro', false, [4], [3, 4]],
      ['a', ['role:admin', 'role:member'], 'publish', 'x+y', true, [1], [1]],
      ['a', [], 'subscribe', 'nothing', false, [], []],
      ['a', [], 'delete', 'nothing', false, [], []],
    ];
    const oracle = await CasbinOracle.build(source(POLICY).rules);
    for (const [user, roles, action, object, allowed, deciding, matched] of explained) {
      const query = { user, roles, action, object };
      const want = await oracle.explain(query);
      assert.deepEqual([want.allowed, at(want.deciding), at(want.matched)], [allowed, deciding, matched], `oracle: ${JSON.stringify(query)}`);
      for (const [name, engine] of await engines()) {
        const got = engine.explain(query);
        assert.deepEqual([got.allowed, at(got.deciding), at(got.matched), got.version], [allowed, deciding, matched, 'boundaries'], `${name}: ${JSON.stringify(query)}`);
      }
    }
  });

  it('with role_prefixes [role:, tenant:] a tenant-named user ID is a role name', async () => {
    const query = { user: 'tenant:acme', roles: [], action: 'subscribe', object: 'acme:1' };
    const oracle = await CasbinOracle.build(source(POLICY).rules, ['role:', 'tenant:']);
    assert.equal(await oracle.decide(query), false);
    for (const [name, engine] of await engines({ rolePrefixes: ['role:', 'tenant:'] })) assert.equal(engine.decide(query), false, name);
    // A token carrying tenant:acme as a role gets its rights.
    for (const [name, engine] of await engines({ rolePrefixes: ['role:', 'tenant:'] })) {
      assert.equal(engine.decide({ ...query, user: 'u1', roles: ['tenant:acme'] }), true, name);
    }
  });

  it('the oracle matcher is a plain regex over the escaped pattern', () => {
    assert.equal(oracleMatches('chat:', 'chat:*', 'u'), true);
    assert.equal(oracleMatches('personal:', 'personal:{user}', ''), false);
    assert.equal(oracleMatches('a\nb', 'a*b', 'u'), true);
    assert.equal(oracleMatches('ab', 'a.b', 'u'), false);
  });
});

describe('the index refuses what casbin would misread', () => {
  const bad: Array<[string, string, string]> = [
    ['an undefined policy type', 'g2, a, b', 'boundaries.csv:1: policy type "g2" is not defined in the model'],
    ['a p line with three values', 'p, a, b, subscribe', 'boundaries.csv:1: "p" takes 4 values (sub, obj, act, eft), got 3'],
    ['a g line with three values', 'g, a, b, c', 'boundaries.csv:1: "g" takes 2 values (arg0, arg1), got 3'],
    ['a misspelt effect', 'p, a, b, subscribe, alow', 'boundaries.csv:1: effect must be "allow" or "deny", got "alow"'],
    ['an empty value', 'p, a, , subscribe, allow', 'boundaries.csv:1: empty value (use a role such as "anonymous" instead of an empty subject)'],
    ['an empty g value', 'g, a, ', 'boundaries.csv:1: empty value (use a role such as "anonymous" instead of an empty subject)'],
  ];
  for (const [note, csv, message] of bad) {
    it(`refuses ${note}`, async () => {
      await assert.rejects(IndexedEngine.build(source(`\n${csv}\n`)), (err: Error & { describe?: () => string }) => {
        assert.equal(err.describe?.(), message);
        return true;
      });
    });
  }

  it('builds a large policy in slices and still answers from every slice', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `p, u${i}, c${i}:*, subscribe, ${i % 7 === 0 ? 'deny' : 'allow'}`);
    const engine = await IndexedEngine.build(source(`\n${lines.join('\n')}\n`));
    for (const i of [0, 1, 6999, 7000, 19_999]) {
      assert.equal(engine.decide({ user: `u${i}`, roles: [], action: 'subscribe', object: `c${i}:x` }), i % 7 !== 0, `u${i}`);
      assert.equal(engine.decide({ user: `u${i}`, roles: [], action: 'subscribe', object: `c${i + 1}:x` }), false);
    }
  });
});

describe('role names and build slices, directly', () => {
  it('an empty role prefix makes nothing a role; p lines name no roles', () => {
    const isRole = roleNames(source('p, alice, bob, subscribe, allow\ng, carol, dave').rules, ['', 'team:']);
    assert.deepEqual(
      ['alice', 'bob', 'carol', 'dave', 'team:x', 'role:x', 'authenticated'].map(isRole),
      [false, false, false, true, true, false, true],
    );
  });

  it('a large build yields to the event loop, so requests are not stalled by a reload', async () => {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    // One subject, one action: the slices are all in the rule loop, not in sealing.
    const lines = Array.from({ length: 60_000 }, (_, i) => `p, u, c${i}:*, subscribe, allow`);
    const big = source(`\n${lines.join('\n')}\n`);
    const before = ticks;
    const engine = await IndexedEngine.build(big);
    running = false;
    assert.ok(ticks - before > 1, `event loop turns during the build: ${ticks - before}`);
    assert.equal(engine.decide({ user: 'u', roles: [], action: 'subscribe', object: 'c59999:x' }), true);
  });
});
