/**
 * explain in detail (explain-detail.ts) called directly, with exact routes and near misses: what
 * the mutation run of that file (TESTING.md) showed the CLI table in policy-explain.test.ts leaves
 * open — which start a route takes, the similarity bound, the rank of each kind of near miss, the
 * cut at five, and role prefixes passed through.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyEngine, PolicyQuery } from '../../src/policy/engine.js';
import { describeRoute, explainInDetail, type DetailedExplanation } from '../../src/policy/explain-detail.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { parsePolicyText } from '../../src/policy/policy-source.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';

async function explainLines(lines: string[], query: Partial<PolicyQuery>, rolePrefixes?: readonly string[]): Promise<DetailedExplanation> {
  const rules = parsePolicyText(lines.join('\n'), 'p.csv');
  const engine = await IndexedEngine.build({ modelText: DEFAULT_MODEL, modelFile: 'model.conf', rules, files: ['p.csv'], version: 'v' }, { rolePrefixes });
  return explainInDetail(engine, { user: 'u1', roles: [], action: 'subscribe', object: 'chat:room', ...query }, rolePrefixes);
}

/** `line: why` for each near miss, in the order explain prints them. */
const misses = (x: DetailedExplanation) => x.nearMisses.map((m) => `${m.rule.location.line}: ${m.why}`);
/** `subject: route` for each route. */
const routes = (x: DetailedExplanation) => [...x.routes].map(([subject, route]) => `${subject}: ${describeRoute(route)}`);

describe('explain-detail: describeRoute', () => {
  const rules = parsePolicyText('g, alice, role:a\ng, role:a, role:b\n', 'dir/p.csv');
  const links = rules.map((rule) => ({ member: rule.values[0] ?? '', role: rule.values[1] ?? '', rule }));

  it('names each kind of start, then every g line with file:line, joined by arrows', () => {
    assert.equal(describeRoute({ start: 'user', name: 'alice', links: [] }), `the user's own ID "alice"`);
    assert.equal(describeRoute({ start: 'implicit', name: 'anonymous', links: [] }), 'the implicit role anonymous');
    assert.equal(describeRoute({ start: 'token', name: 'role:t', links: [] }), 'the token role role:t');
    assert.equal(
      describeRoute({ start: 'user', name: 'alice', links }),
      `the user's own ID "alice" → g, alice, role:a (dir/p.csv:1) → g, role:a, role:b (dir/p.csv:2)`,
    );
  });
});

describe('explain-detail: routes', () => {
  it('the shortest chain wins, whichever start it comes from', async () => {
    const x = await explainLines(['g, u1, role:a', 'g, role:a, role:b', 'p, role:b, chat:*, subscribe, allow', 'g, role:t, role:b'], { roles: ['role:t'] });
    assert.deepEqual(routes(x), ['role:b: the token role role:t → g, role:t, role:b (p.csv:4)']);
  });

  it('on a tie the earlier start is kept: the user, then the implicit role, then the token', async () => {
    const policy = ['g, u1, role:b', 'g, authenticated, role:b', 'g, role:t, role:b', 'p, role:b, chat:*, subscribe, allow'];
    assert.deepEqual(routes(await explainLines(policy, { roles: ['role:t'] })), [`role:b: the user's own ID "u1" → g, u1, role:b (p.csv:1)`]);
    assert.deepEqual(routes(await explainLines(policy.slice(1), { roles: ['role:t'] })), ['role:b: the implicit role authenticated → g, authenticated, role:b (p.csv:1)']);
  });

  it('the implicit role of an anonymous request, a token role held directly, one route per subject', async () => {
    const x = await explainLines(['p, anonymous, chat:*, subscribe, allow', 'p, role:t, chat:*, subscribe, allow', 'p, role:t, *, subscribe, allow'], { user: '', roles: ['role:t'] });
    assert.deepEqual(routes(x), ['anonymous: the implicit role anonymous', 'role:t: the token role role:t']);
    assert.equal(x.matched.length, 3);
  });

  it('a user ID that is a role name starts no route of its own (role prefixes passed through)', async () => {
    const policy = ['p, grp:x, chat:*, subscribe, allow'];
    const asUser = await explainLines(policy, { user: 'grp:x' });
    assert.deepEqual(routes(asUser), [`grp:x: the user's own ID "grp:x"`]);
    assert.deepEqual(misses(asUser), []);
    const asRole = await explainLines(policy, { user: 'grp:x' }, ['grp:']);
    assert.deepEqual(routes(asRole), []);
    assert.deepEqual(misses(asRole), ['1: the user\'s ID "grp:x" is a role name, and a user ID never acts as a role']);
  });
});

describe('explain-detail: near misses', () => {
  it('a similar object: at least three characters of the literal start shared, the most shared first', async () => {
    const x = await explainLines(
      [
        'p, u1, cha, subscribe, allow',
        'p, u1, chz:*, subscribe, allow',
        'p, u1, chat:roam, subscribe, allow',
        'p, u1, chat:rooms, subscribe, allow',
        'p, u1, x:*, subscribe, allow',
      ],
      {},
    );
    assert.deepEqual(misses(x), ['4: "chat:room" does not match "chat:rooms"', '3: "chat:room" does not match "chat:roam"', '1: "chat:room" does not match "cha"']);
  });

  it('a pattern whose literal start is the whole object ends the comparison at the end of both', async () => {
    const x = await explainLines(['p, u1, chat:room{user}, subscribe, allow'], {});
    assert.deepEqual(misses(x), ['1: "chat:room" does not match "chat:room{user}" ({user} is "u1")']);
  });

  it('{user} against an anonymous request says it never matches', async () => {
    const x = await explainLines(['p, anonymous, personal:{user}, subscribe, allow'], { user: '', object: 'personal:1' });
    assert.deepEqual(misses(x), ['1: {user} never matches an anonymous request']);
  });

  it('a subject not held: a role the user lacks before another user\'s line', async () => {
    const x = await explainLines(['p, bob, chat:*, subscribe, allow', 'p, role:other, chat:*, subscribe, allow', 'p, members, chat:*, subscribe, allow', 'g, carol, members'], {});
    assert.deepEqual(misses(x), [
      "2: the user does not hold role:other: not in the token's roles, no g line gives it",
      "3: the user does not hold members: not in the token's roles, no g line gives it",
      '1: the line is for user "bob"',
    ]);
  });

  it('another action: only one of the same kind of object, a misspelt action\'s likely meaning first', async () => {
    const policy = ['p, u1, *, connect, allow', 'p, u1, chat:*, publish, allow', 'p, u1, chat:*, sub_refresh, allow', 'p, u1, *, subscribe, allow', 'p, u1, *, refresh, allow'];
    assert.deepEqual(misses(await explainLines(policy, { action: 'subscrbe' })), [
      '4: it is for subscribe, not subscrbe',
      '2: it is for publish, not subscrbe',
      '3: it is for sub_refresh, not subscrbe',
    ]);
    assert.deepEqual(misses(await explainLines(policy, { action: 'connect', object: '' })), ['5: it is for refresh, not connect']);
  });

  it('no near miss from a line whose subject is not held and whose action differs, or whose object does not match', async () => {
    const x = await explainLines(['p, bob, chat:*, publish, allow', 'p, u1, chat:roam, publish, allow', 'p, u1, chat:*, subscribe, allow'], {});
    assert.deepEqual(misses(x), []);
    assert.equal(x.allowed, true);
  });

  it('ranked by kind, then file order, and cut at five', async () => {
    const x = await explainLines(
      [
        'p, bob, chat:*, subscribe, allow',
        'p, u1, chat:*, publish, allow',
        'p, role:b, chat:*, subscribe, allow',
        'p, role:a, chat:*, subscribe, allow',
        'p, u1, chat:roam, subscribe, allow',
        'p, u1, chat:rooms, subscribe, allow',
        'p, carol, chat:*, subscribe, allow',
      ],
      {},
    );
    assert.deepEqual(misses(x), [
      '6: "chat:room" does not match "chat:rooms"',
      '5: "chat:room" does not match "chat:roam"',
      "3: the user does not hold role:b: not in the token's roles, no g line gives it",
      "4: the user does not hold role:a: not in the token's roles, no g line gives it",
      '2: it is for publish, not subscribe',
    ]);
  });

  it('the explanation keeps the engine\'s answer', async () => {
    const x = await explainLines(['p, u1, chat:*, subscribe, allow', 'p, u1, chat:room, subscribe, deny'], {});
    assert.deepEqual(
      { allowed: x.allowed, deciding: x.deciding.map((r) => r.location.line), matched: x.matched.map((r) => r.location.line), version: x.version },
      { allowed: false, deciding: [2], matched: [1, 2], version: 'v' },
    );
  });

  it('only p lines of four values the engine did not match are candidates; routes only for held subjects', () => {
    // A stand-in engine for a custom model (the casbin fallback): a p2 line, a p line without an
    // effect, and a matched line whose subject no route reaches.
    const rules = parsePolicyText(['p2, bob, chat:*, subscribe, allow', 'p, bob, chat:*, subscribe', 'p, carol, chat:*, subscribe, allow', 'p, dave, chat:*, subscribe, allow'].join('\n'), 'p.csv');
    const matched = [rules[2] as (typeof rules)[number]];
    const engine: PolicyEngine = {
      version: 'v',
      evaluator: 'fake',
      source: { modelText: '', modelFile: 'model.conf', rules, files: ['p.csv'], version: 'v' },
      decide: () => true,
      explain: () => ({ allowed: true, deciding: matched, matched, version: 'v' }),
    };
    const x = explainInDetail(engine, { user: 'u1', roles: [], action: 'subscribe', object: 'chat:room' });
    assert.deepEqual(misses(x), ['4: the line is for user "dave"']);
    assert.deepEqual([...x.routes.keys()], []);
  });
});
