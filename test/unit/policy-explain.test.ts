/** explain: role chains, deciding and also-matching lines, near misses; text and --json asserted exactly. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { ROOT } from '../helpers/harness.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out, err };
}

const POLICY = [
  'p, role:support, support:*, subscribe, allow',
  'p, role:support, support:vip:*, subscribe, deny',
  'p, role:support, support:*, publish, allow',
  'p, role:lead, support:vip:*, publish, allow',
  'g, alice, role:agent',
  'g, role:agent, role:support',
  'p, 666, *, subscribe, deny',
  'p, authenticated, personal:{user}, subscribe, allow',
  '',
].join('\n');

const dir = mkdtempSync(join(tmpdir(), 'cpp-explain-'));
copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
writeFileSync(join(dir, 'policy.csv'), POLICY);
writeFileSync(join(dir, 'config.yaml'), 'policy: { model: model.conf, policy: policy.csv, tests: "" }\n');
const config = join(dir, 'config.yaml');
const at = (line: number) => `${dir}/policy.csv:${line}`;
const explain = (user: string, action: string, object: string, roles = '') => cli(['explain', '--config', config, '--user', user, '--roles', roles, '--action', action, '--object', object]);

describe('explain', () => {
  const table: Array<{ name: string; args: [string, string, string, string?]; out: string[]; err?: string[] }> = [
    {
      name: 'a role through g lines: the whole chain with file:line',
      args: ['alice', 'subscribe', 'support:42'],
      out: [
        'decision: allow',
        'policy version: <v>',
        `decided by: ${at(1)}: p, role:support, support:*, subscribe, allow`,
        `  role:support via the user's own ID "alice" → g, alice, role:agent (${at(5)}) → g, role:agent, role:support (${at(6)})`,
        `did not match: ${at(2)}: p, role:support, support:vip:*, subscribe, deny ("support:42" does not match "support:vip:*")`,
        `did not match: ${at(3)}: p, role:support, support:*, publish, allow (it is for publish, not subscribe)`,
        `did not match: ${at(7)}: p, 666, *, subscribe, deny (the line is for user "666")`,
      ],
    },
    {
      name: 'a token role, a deny deciding, an allow also matching',
      args: ['bob', 'subscribe', 'support:vip:1', 'role:agent'],
      out: [
        'decision: deny',
        'policy version: <v>',
        `decided by: ${at(2)}: p, role:support, support:vip:*, subscribe, deny`,
        `  role:support via the token role role:agent → g, role:agent, role:support (${at(6)})`,
        `also matched: ${at(1)}: p, role:support, support:*, subscribe, allow`,
        `  role:support via the token role role:agent → g, role:agent, role:support (${at(6)})`,
        `did not match: ${at(3)}: p, role:support, support:*, publish, allow (it is for publish, not subscribe)`,
        `did not match: ${at(7)}: p, 666, *, subscribe, deny (the line is for user "666")`,
      ],
    },
    {
      name: 'nothing matched: a role the user lacks, {user} for someone else',
      args: ['56', 'publish', 'support:vip:2'],
      out: [
        'decision: deny',
        'policy version: <v>',
        'decided by: no rule matched (default deny)',
        `did not match: ${at(3)}: p, role:support, support:*, publish, allow (the user does not hold role:support: not in the token's roles, no g line gives it)`,
        `did not match: ${at(4)}: p, role:lead, support:vip:*, publish, allow (the user does not hold role:lead: not in the token's roles, no g line gives it)`,
      ],
    },
    {
      name: '{user} explained',
      args: ['56', 'subscribe', 'personal:57'],
      out: [
        'decision: deny',
        'policy version: <v>',
        'decided by: no rule matched (default deny)',
        `did not match: ${at(8)}: p, authenticated, personal:{user}, subscribe, allow ("personal:57" does not match "personal:{user}" ({user} is "56"))`,
        `did not match: ${at(7)}: p, 666, *, subscribe, deny (the line is for user "666")`,
      ],
    },
    {
      name: 'a misspelt action warns and points at the action meant',
      args: ['alice', 'publsh', 'support:1'],
      out: [
        'decision: deny',
        'policy version: <v>',
        'decided by: no rule matched (default deny)',
        `did not match: ${at(3)}: p, role:support, support:*, publish, allow (it is for publish, not publsh)`,
        `did not match: ${at(1)}: p, role:support, support:*, subscribe, allow (it is for subscribe, not publsh)`,
      ],
      err: ['warning: unknown action "publsh" (did you mean "publish"?): actions are connect, refresh, subscribe, publish, sub_refresh, rpc'],
    },
  ];
  for (const row of table) {
    it(row.name, async () => {
      const r = await explain(...(row.args as [string, string, string, string]));
      assert.equal(r.code, 0);
      assert.deepEqual(r.out.map((l) => l.replace(/^policy version: [0-9a-f]{12}$/, 'policy version: <v>')), row.out);
      assert.deepEqual(r.err, row.err ?? []);
    });
  }

  it('--json carries the routes, the matches, the near misses and warnings', async () => {
    const r = await cli(['explain', '--config', config, '--user', 'bob', '--roles', 'role:agent', '--action', 'subscribe', '--object', 'support:vip:1', '--json']);
    const x = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    const via = { start: 'token', name: 'role:agent', links: [{ file: `${dir}/policy.csv`, line: 6, rule: 'g, role:agent, role:support' }] };
    assert.deepEqual({ ...x, policy_version: '<v>' }, {
      decision: 'deny',
      policy_version: '<v>',
      deciding: [{ file: `${dir}/policy.csv`, line: 2, rule: 'p, role:support, support:vip:*, subscribe, deny', subject_via: via }],
      matched: [
        { file: `${dir}/policy.csv`, line: 1, rule: 'p, role:support, support:*, subscribe, allow', subject_via: via },
        { file: `${dir}/policy.csv`, line: 2, rule: 'p, role:support, support:vip:*, subscribe, deny', subject_via: via },
      ],
      near_misses: [
        { file: `${dir}/policy.csv`, line: 3, rule: 'p, role:support, support:*, publish, allow', why: 'it is for publish, not subscribe' },
        { file: `${dir}/policy.csv`, line: 7, rule: 'p, 666, *, subscribe, deny', why: 'the line is for user "666"' },
      ],
      warnings: [],
    });
  });
});
