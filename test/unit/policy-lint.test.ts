/** Lint (issue 15): each mistake a security team makes gets exactly one line with file:line. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { runCli } from '../../src/cli/main.js';
import { ACTIONS, CHANNEL_ACTIONS, EMPTY_OBJECT_ACTIONS, nearestAction, unknownAction } from '../../src/policy/actions.js';
import { lintPolicy, lintRules } from '../../src/policy/lint.js';
import type { PolicySource } from '../../src/policy/policy-source.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';
import { order, RoleGraph } from '../../src/policy/lint-roles.js';
import { parsePolicyText } from '../../src/policy/policy-source.js';
import { PolicyStore } from '../../src/policy/policy-store.js';
import { ROOT } from '../helpers/harness.js';

const lint = (lines: string[], rolePrefixes?: string[]) => lintRules(parsePolicyText(lines.join('\n'), 'p.csv'), { rolePrefixes });

describe('lint: one line per problem', () => {
  const table: Array<{ name: string; lines: string[]; expect: string[]; prefixes?: string[] }> = [
    {
      name: 'a misspelt action',
      lines: ['p, role:agent, support:*, subscibe, allow', 'g, role:x, role:agent'],
      expect: ['p.csv:1: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches'],
    },
    {
      name: 'an action that is no word of ours',
      lines: ['p, role:agent, support:*, listen, allow'],
      expect: ['p.csv:1: unknown action "listen": actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches'],
    },
    {
      name: '* as an action',
      lines: ['p, role:admin, *, *, allow'],
      expect: ['p.csv:1: action "*" is not a wildcard: actions are compared exactly, so this line never matches (write one line per action)'],
    },
    {
      name: 'connect with an object pattern',
      lines: ['p, role:agent, support:*, connect, allow', 'p, role:agent, {user}, refresh, allow', 'p, role:agent, *, connect, allow', 'p, role:agent, **, refresh, allow'],
      expect: [
        'p.csv:1: never matches: the object of connect is always "" and "support:*" cannot match it (write *)',
        'p.csv:2: never matches: the object of refresh is always "" and "{user}" cannot match it (write *)',
      ],
    },
    {
      name: 'a channel pattern with whitespace or longer than any channel',
      lines: ['p, role:agent, chat: lobby, subscribe, allow', `p, role:agent, ${'x'.repeat(256)}*, publish, allow`, 'p, role:agent, a b, rpc, allow'],
      expect: [
        'p.csv:1: never matches: "chat: lobby" contains whitespace, which no channel name holds (a stray space or a trailing comment?)',
        `p.csv:2: never matches: "${'x'.repeat(256)}*" needs at least 256 characters, more than Centrifugo's default channel.max_length (255)`,
      ],
    },
    {
      name: 'a role cycle, reported once',
      lines: ['p, role:a, chat:*, subscribe, allow', 'g, role:a, role:b', 'g, role:b, role:a', 'g, role:c, role:c'],
      expect: [
        'p.csv:2: role cycle: role:a → role:b → role:a (with p.csv:3)',
        'p.csv:4: role cycle: role:c → role:c',
        'p.csv:4: role "role:c" is granted here but gives nothing: no p line names it or a role it inherits',
      ],
    },
    {
      name: 'a role granted but never used',
      lines: ['p, role:member, chat:*, subscribe, allow', 'g, alice, role:membr', 'g, bob, role:membr', 'g, role:admin, role:member', 'g, carol, role:admin'],
      expect: ['p.csv:2: role "role:membr" is granted here but gives nothing: no p line names it or a role it inherits'],
    },
    {
      name: 'duplicates',
      lines: ['p, role:m, chat:*, publish, allow', 'g, a, role:m', 'p, role:m, chat:*, publish, allow', 'g, a, role:m'],
      expect: ['p.csv:3: duplicate of p.csv:1', 'p.csv:4: duplicate of p.csv:2'],
    },
    {
      name: 'lines whose values only run together alike are no duplicates',
      lines: ['p, ab, x, rpc, allow', 'p, a, bx, rpc, allow'],
      expect: [],
    },
    {
      name: 'a cycle of three roles names every line',
      lines: ['p, role:a, chat:*, subscribe, allow', 'g, role:a, role:b', 'g, role:b, role:c', 'g, role:c, role:a'],
      expect: ['p.csv:2: role cycle: role:a → role:b → role:c → role:a (with p.csv:3, p.csv:4)'],
    },
    {
      name: 'allows a deny always overrides: same subject, inherited role, authenticated',
      lines: [
        'p, role:member, chat:lobby, subscribe, allow',
        'p, role:member, chat:*, subscribe, deny',
        'p, role:admin, chat:x, subscribe, allow',
        'g, role:admin, role:member',
        'p, role:guest, news:1, subscribe, allow',
        'p, authenticated, news:*, subscribe, deny',
        'p, anonymous, news:2, subscribe, allow',
        'p, role:guest, news:3, publish, allow',
      ],
      expect: [
        'p.csv:1: this allow never takes effect: p.csv:2 denies the same subject and action for every object it matches',
        'p.csv:3: this allow never takes effect: p.csv:2 denies role:member, which role:admin inherits (g at p.csv:4) the same action for every object it matches',
        'p.csv:5: this allow never takes effect: p.csv:6 denies authenticated (every verified user) the same action for every object it matches',
      ],
    },
    {
      name: 'a role-looking subject without a role prefix',
      lines: ['p, tenant:acme, acme.*, subscribe, allow', 'p, admin, *, rpc, allow', 'p, 666, *, publish, deny', 'p, team:ops, ops:*, subscribe, allow', 'g, alice, team:ops'],
      expect: [
        'p.csv:1: subject "tenant:acme" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (role:); a user with that ID would get this line',
        'p.csv:2: subject "admin" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (role:); a user with that ID would get this line',
      ],
    },
    {
      name: 'role words in either number, any case, as the whole subject only; role shapes start with a letter',
      lines: [
        ...['administrator', 'superuser', 'moderator', 'mod', 'member', 'editor', 'viewer', 'reader', 'writer', 'guest', 'owner', 'manager', 'operator', 'Staff', 'OWNERS'].map((s) => `p, ${s}, *, rpc, allow`),
        ...['alice', 'staffing', 'xadmin', '1team:ops', 'team:', '-team:ops'].map((s) => `p, ${s}, *, rpc, allow`),
      ],
      expect: ['administrator', 'superuser', 'moderator', 'mod', 'member', 'editor', 'viewer', 'reader', 'writer', 'guest', 'owner', 'manager', 'operator', 'Staff', 'OWNERS'].map(
        (s, i) => `p.csv:${i + 1}: subject "${s}" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (role:); a user with that ID would get this line`,
      ),
    },
    {
      name: 'the prefixes named in the message: several',
      lines: ['p, tenant:acme, acme.*, subscribe, allow'],
      prefixes: ['role:', 'group:'],
      expect: [
        'p.csv:1: subject "tenant:acme" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (role:, group:); a user with that ID would get this line',
      ],
    },
    {
      name: 'no prefixes at all',
      lines: ['p, admin, *, rpc, allow'],
      prefixes: [],
      expect: ['p.csv:1: subject "admin" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (none); a user with that ID would get this line'],
    },
    {
      name: 'a channel pattern of exactly 255 fixed characters may match (stars and {user} count for nothing)',
      lines: [`p, role:agent, ${'x'.repeat(255)}*, publish, allow`, `p, role:agent, ${'x'.repeat(249)}**{user}, subscribe, allow`, 'g, bob, role:agent'],
      expect: [],
    },
    {
      name: 'listed prefixes make it a role',
      lines: ['p, tenant:acme, acme.*, subscribe, allow'],
      prefixes: ['role:', 'tenant:'],
      expect: [],
    },
  ];
  for (const row of table) {
    it(row.name, () => assert.deepEqual(lint(row.lines, row.prefixes), row.expect));
  }

  it('several problems on several lines are all reported, in file order', () => {
    assert.deepEqual(lint(['p, role:a, x, subscibe, allow', 'p, role:a, x:*, connect, allow', 'g, role:b, role:b']), [
      'p.csv:1: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches',
      'p.csv:2: never matches: the object of connect is always "" and "x:*" cannot match it (write *)',
      'p.csv:3: role cycle: role:b → role:b',
      'p.csv:3: role "role:b" is granted here but gives nothing: no p line names it or a role it inherits',
    ]);
  });

  it('findings in file order, those of one line in the order found (duplicates are found first)', () => {
    assert.deepEqual(lint(['p, admin, x, subscibe, allow', 'g, u, role:a', 'g, u, role:a', 'p, admin, x, subscibe, allow', 'p, role:a, y, rpc, allow']), [
      'p.csv:1: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches',
      'p.csv:1: subject "admin" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (role:); a user with that ID would get this line',
      'p.csv:3: duplicate of p.csv:2',
      'p.csv:4: duplicate of p.csv:1',
      'p.csv:4: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches',
      'p.csv:4: subject "admin" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (role:); a user with that ID would get this line',
    ]);
  });

  it('only p lines of four values are read as rules (other types and arities are the engines\' to refuse)', () => {
    assert.deepEqual(lint(['p2, admin, x, subscibe, allow', 'p, admin, x, subscibe', 'g, admin, x, subscibe, allow']), []);
  });

  it('lintPolicy: the prefixes given, and the model deciding how much lint reads', () => {
    const source = (modelText: string, lines: string[]) => ({ modelText, rules: parsePolicyText(lines.join('\n'), 'p.csv') }) as unknown as PolicySource;
    assert.deepEqual(lintPolicy(source(DEFAULT_MODEL, ['p, tenant:acme, acme.*, subscribe, allow']), ['tenant:']), []);
    const other = DEFAULT_MODEL.replace('p = sub, obj, act, eft', 'p = sub, obj, act');
    assert.deepEqual(lintPolicy(source(other, ['p, a, x, subscibe', 'p, a, x, subscibe'])), ['p.csv:2: duplicate of p.csv:1']);
  });

  it('a model of another shape gets duplicates only', () => {
    const rules = parsePolicyText('p, a, x, subscibe, allow\np, a, x, subscibe, allow', 'p.csv');
    assert.deepEqual(lintRules(rules, { defaultModel: false }), ['p.csv:2: duplicate of p.csv:1']);
  });
});

describe('actions: the six, and the one a typo meant', () => {
  const LIST = 'actions are connect, refresh, subscribe, publish, sub_refresh, rpc';
  it('the six actions and their object kinds', () => {
    assert.deepEqual([ACTIONS, [...CHANNEL_ACTIONS], [...EMPTY_OBJECT_ACTIONS]], [
      ['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc'],
      ['subscribe', 'publish', 'sub_refresh'],
      ['connect', 'refresh'],
    ]);
  });

  // Within two edits, or a prefix of the nearest (any case); nothing for a known action.
  const table: Array<[string, string | undefined]> = [
    ['publsh', 'publish'], ['rcp', 'rpc'], ['rpcs', 'rpc'], ['refres', 'refresh'], ['subscribee', 'subscribe'],
    ['subrefresh', 'sub_refresh'], ['sub-refresh', 'sub_refresh'], ['conn', 'connect'], ['Conn', 'connect'], ['CONNECT', 'connect'],
    ['sbscrb', undefined], ['publishing', undefined], ['pub', undefined], ['x', undefined],
    // Every action starts with the empty string: no action given is no typo of any.
    ['', undefined],
  ];
  for (const [typo, meant] of table) {
    it(`${typo} → ${meant ?? 'no suggestion'}`, () => {
      assert.equal(nearestAction(typo), meant);
      assert.equal(unknownAction(typo), `unknown action "${typo}"${meant ? ` (did you mean "${meant}"?)` : ''}: ${LIST}`);
    });
  }
  it('a known action is no typo', () => {
    for (const action of ACTIONS) assert.deepEqual([nearestAction(action), unknownAction(action)], [undefined, undefined]);
  });
});

describe('RoleGraph: what lint reads from the g lines', () => {
  const graph = (lines: string[]) => RoleGraph.of(parsePolicyText(lines.join('\n'), 'p.csv'));
  const lines = (edges: Array<{ rule: { location: { file: string; line: number } } }> | undefined) => edges?.map((e) => `${e.rule.location.file}:${e.rule.location.line}`);
  /** u0 → u1 → … → u11: eleven g lines in a row. */
  const ladder = Array.from({ length: 11 }, (_, i) => `g, u${i}, u${i + 1}`);

  it('only two-value g lines are edges (not p, g2 or domain lines)', () => {
    const g = graph(['p, x, y, rpc, allow', 'g2, a, b', 'g, a, b, tenant1', 'g, c, d']);
    assert.deepEqual([g.chain('x', 'y'), g.chain('a', 'b'), lines(g.chain('c', 'd'))], [undefined, undefined, ['p.csv:4']]);
    assert.deepEqual(lines(g.allEdges()), ['p.csv:4']);
  });

  it('allEdges in file order (files by name, then lines), whatever the member', () => {
    const rules = [...parsePolicyText('g, x, r1\ng, y, r4', 'b.csv'), ...parsePolicyText('g, y, r2\ng, x, r3', 'a.csv')];
    assert.deepEqual(lines(RoleGraph.of(rules).allEdges()), ['a.csv:1', 'a.csv:2', 'b.csv:1', 'b.csv:2']);
    const [b1, , a1, a2] = rules as [never, never, never, never];
    assert.deepEqual([order(a1, a2), order(a2, a1), order(a1, b1), order(b1, a1), order(a1, a1)], [-1, 1, -1, 1, 0]);
  });

  it('chain and closure follow at most ten g lines, as casbin does', () => {
    const g = graph(ladder);
    assert.equal(g.chain('u0', 'u10')?.length, 10);
    assert.equal(g.chain('u0', 'u11'), undefined);
    assert.deepEqual(lines(g.chain('u3', 'u5')), ['p.csv:4', 'p.csv:5']);
    assert.deepEqual(g.chain('u3', 'u3'), []);
    assert.deepEqual([...g.closure('u0')].sort(), Array.from({ length: 11 }, (_, i) => `u${i}`).sort());
    assert.deepEqual([...g.closure('u9')].sort(), ['u10', 'u11', 'u9']);
  });

  it('cycles: each once, a cycle through an already reported role not again', () => {
    const g = graph(['g, a, b', 'g, b, a', 'g, c, a', 'g, a, c']);
    assert.deepEqual(g.cycles().map(lines), [['p.csv:1', 'p.csv:2']]);
  });
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out, err };
}

function configWith(csv: string, extra = ''): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-lint-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  writeFileSync(join(dir, 'policy.csv'), csv);
  writeFileSync(join(dir, 'config.yaml'), `policy: { model: model.conf, policy: policy.csv, tests: ""${extra} }\n`);
  return { dir, config: join(dir, 'config.yaml') };
}

describe('check and lint', () => {
  const csv = 'p, authenticated, *, connect, allow\np, role:agent, support:*, subscibe, allow\np, role:agent, support:*, connect, allow\n';

  it('prints every warning and passes without --strict', async () => {
    const { dir, config } = configWith(csv);
    const r = await cli(['check', '--config', config]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.out.slice(2), [
      `warning: ${dir}/policy.csv:2: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches`,
      `warning: ${dir}/policy.csv:3: never matches: the object of connect is always "" and "support:*" cannot match it (write *)`,
    ]);
  });

  for (const [how, args, extra] of [
    ['--strict', ['--strict'], ''],
    ['policy.strict', [], ', strict: true'],
  ] as const) {
    it(`fails with ${how}, one line per problem`, async () => {
      const { dir, config } = configWith(csv, extra);
      const r = await cli(['check', '--config', config, ...args]);
      assert.equal(r.code, 1);
      assert.deepEqual(r.out, []);
      assert.deepEqual(r.err, [
        `error: ${dir}/policy.csv:2: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches`,
        `error: ${dir}/policy.csv:3: never matches: the object of connect is always "" and "support:*" cannot match it (write *)`,
        `refused: 2 lint problem(s) (${how})`,
      ]);
    });
  }

  it('reports every broken line, not only the first', async () => {
    const { dir, config } = configWith('p, a, b, subscribe, alow\np, a, b\np, a, x, publish, deny   # no comments here\nq, a\np, a, y, publish, allow\n');
    const r = await cli(['check', '--config', config]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [
      `${dir}/policy.csv:3: trailing comments are not allowed: put the comment on its own line (a line is a comment only when it starts with #)`,
      `${dir}/policy.csv:4: line must start with a policy type like "p" or "g", got "q"`,
      `${dir}/policy.csv:1: effect must be "allow" or "deny", got "alow"`,
      `${dir}/policy.csv:2: "p" takes 4 values (sub, obj, act, eft), got 2`,
    ]);
  });

  it('the shipped policy passes --strict', async () => {
    const r = await cli(['check', '--strict', '--config', `${ROOT}/config/default.yaml`]);
    assert.equal(r.code, 0, r.err.join('\n'));
  });
});

describe('lint on reload', () => {
  const good = 'p, authenticated, *, connect, allow\n';
  const linty = `${good}p, role:agent, support:*, subscibe, allow\n`;

  async function store(strict: boolean) {
    const { dir } = configWith(good);
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const s = new PolicyStore({ model: join(dir, 'model.conf'), policy: join(dir, 'policy.csv'), strict }, log);
    await s.load();
    return { dir, s, lines };
  }

  it('without policy.strict: loaded, with the problems logged as a warning', async () => {
    const { dir, s, lines } = await store(false);
    writeFileSync(join(dir, 'policy.csv'), linty);
    const outcome = await s.reload('test');
    assert.equal(outcome.result, 'loaded');
    const warning = lines.find((l) => l.level === 40);
    assert.equal(warning?.msg, 'policy has 1 lint problem(s) (policy.strict: true refuses such a policy)');
    assert.deepEqual(warning?.warnings, [`${dir}/policy.csv:2: unknown action "subscibe" (did you mean "subscribe"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc; this line never matches`]);
  });

  it('with policy.strict: refused, the last good policy stays', async () => {
    const { dir, s } = await store(true);
    const before = s.current().version;
    writeFileSync(join(dir, 'policy.csv'), linty);
    const outcome = await s.reload('test');
    assert.equal(outcome.result, 'failed');
    assert.match(outcome.result === 'failed' ? outcome.error : '', /^1 lint problem\(s\) and policy\.strict is on: .*policy\.csv:2: unknown action "subscibe"/);
    assert.equal(s.current().version, before);
  });
});
