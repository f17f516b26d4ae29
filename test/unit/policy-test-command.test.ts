/** `test`: filters, required fields, broken files, JSON, JUnit XML and coverage, outputs asserted exactly. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

const POLICY = ['p, authenticated, *, connect, allow', 'p, role:member, chat:*, subscribe, allow', 'p, role:member, chat:secret, subscribe, deny', 'p, role:member, tasks.*, rpc, allow', 'p, role:x, chat:*, publish, allow', ''].join('\n');

function project(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-test-cmd-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  writeFileSync(join(dir, 'policy.csv'), POLICY);
  mkdirSync(join(dir, 'tests'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'tests', name), text);
  writeFileSync(join(dir, 'config.yaml'), 'policy: { model: model.conf, policy: policy.csv, tests: tests }\n');
  return { dir, config: join(dir, 'config.yaml'), tests: join(dir, 'tests') };
}

const GOOD = `cases:
  - { note: members connect, user: "1", action: connect, object: "", expect: allow }
  - { note: members read chat, user: "1", roles: [role:member], action: subscribe, object: "chat:a", expect: allow }
  - { note: the secret room is closed, user: "1", roles: [role:member], action: subscribe, object: "chat:secret", expect: deny }
`;
const WRONG = `cases:
  - { note: wrong on purpose, user: "1", action: subscribe, object: "chat:a", expect: allow }
`;

describe('test command', () => {
  it('filters by --file and --case', async () => {
    const p = project({ 'a.yaml': GOOD, 'b.yaml': WRONG });
    const table: Array<{ args: string[]; code: number; out: string[]; err?: string[] }> = [
      { args: [], code: 1, out: [`FAIL ${p.tests}/b.yaml cases[0] "wrong on purpose": user="1" subscribe "chat:a" expected allow, got deny`, '3 passed, 1 failed'] },
      { args: ['--file', 'a.yaml'], code: 0, out: ['3 passed, 0 failed'] },
      { args: ['--file', `${p.tests}/b.yaml`], code: 1, out: [`FAIL ${p.tests}/b.yaml cases[0] "wrong on purpose": user="1" subscribe "chat:a" expected allow, got deny`, '0 passed, 1 failed'] },
      { args: ['--case', 'SECRET'], code: 0, out: ['1 passed, 0 failed'] },
      { args: ['--file', 'a.yaml', '--case', 'read'], code: 0, out: ['1 passed, 0 failed'] },
      { args: ['--case', 'nothing like this'], code: 1, out: [], err: [`no test case matches --case nothing like this in ${p.tests}`] },
    ];
    for (const row of table) {
      const r = await cli(['test', '--config', p.config, ...row.args]);
      assert.deepEqual({ code: r.code, out: r.out, err: r.err }, { code: row.code, out: row.out, err: row.err ?? [] }, row.args.join(' '));
    }
  });

  it('a case missing a field, or with an object its action cannot have, is an error', async () => {
    const p = project({
      'a.yaml': `cases:
  - { note: no object, user: "1", action: subscribe, expect: deny }
  - { note: no user, action: connect, object: "", expect: deny }
  - { note: no expect, user: "1", action: connect, object: "" }
  - { note: empty channel, user: "1", action: publish, object: "", expect: deny }
  - { note: connect to something, user: "1", action: connect, object: "x", expect: allow }
  - { note: fine, user: "1", action: connect, object: "", expect: allow }
`,
    });
    const r = await cli(['test', '--config', p.config]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [
      `${p.tests}/a.yaml: cases[0].object: required`,
      `${p.tests}/a.yaml: cases[1].user: required`,
      `${p.tests}/a.yaml: cases[2].expect: required`,
      `${p.tests}/a.yaml: cases[3].object: publish needs a non-empty object (a channel or an RPC method)`,
      `${p.tests}/a.yaml: cases[4].object: the object of connect is always "" (write object: "")`,
    ]);
    assert.deepEqual(r.out, ['1 passed, 5 failed']);
  });

  it('a file that does not parse fails the run and counts', async () => {
    const p = project({ 'a.yaml': GOOD, 'broken.yaml': 'cases:\n  - { note: x, user: "1"\n  - oops: [\n' });
    const r = await cli(['test', '--config', p.config]);
    assert.equal(r.code, 1);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0] ?? '', new RegExp(`^${p.tests}/broken\\.yaml: invalid YAML: `));
    assert.deepEqual(r.out, ['3 passed, 1 failed']);
    const check = await cli(['check', '--config', p.config]);
    assert.equal(check.code, 1);
  });

  it('--json carries every case, the deciding lines and the problems', async () => {
    const p = project({ 'a.yaml': GOOD, 'b.yaml': WRONG });
    const r = await cli(['test', '--config', p.config, '--json', '--case', 'secret']);
    assert.equal(r.code, 0);
    const report = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    assert.match(String(report.policy_version), /^[0-9a-f]{12}$/);
    assert.deepEqual({ ...report, policy_version: 'v' }, {
      policy_version: 'v',
      passed: 1,
      failed: 0,
      problems: [],
      cases: [
        {
          file: `${p.tests}/a.yaml`,
          index: 2,
          note: 'the secret room is closed',
          user: '1',
          roles: ['role:member'],
          action: 'subscribe',
          object: 'chat:secret',
          expect: 'deny',
          got: 'deny',
          passed: true,
          deciding: [{ file: `${p.dir}/policy.csv`, line: 3, rule: 'p, role:member, chat:secret, subscribe, deny' }],
        },
      ],
    });
  });

  it('--junit writes JUnit XML: a suite per file, failures and load errors', async () => {
    const p = project({ 'a.yaml': GOOD, 'b.yaml': WRONG, 'c.yaml': 'cases: 3\n' });
    const file = join(p.dir, 'junit.xml');
    const r = await cli(['test', '--config', p.config, '--junit', file]);
    assert.equal(r.code, 1);
    assert.equal(
      readFileSync(file, 'utf8'),
      `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="policy" tests="5" failures="1" errors="1">
  <testsuite name="${p.tests}/a.yaml" tests="3" failures="0" errors="0">
    <testcase classname="${p.tests}/a.yaml" name="cases[0] members connect"/>
    <testcase classname="${p.tests}/a.yaml" name="cases[1] members read chat"/>
    <testcase classname="${p.tests}/a.yaml" name="cases[2] the secret room is closed"/>
  </testsuite>
  <testsuite name="${p.tests}/b.yaml" tests="1" failures="1" errors="0">
    <testcase classname="${p.tests}/b.yaml" name="cases[0] wrong on purpose"><failure message="expected allow, got deny">FAIL ${p.tests}/b.yaml cases[0] &quot;wrong on purpose&quot;: user=&quot;1&quot; subscribe &quot;chat:a&quot; expected allow, got deny</failure></testcase>
  </testsuite>
  <testsuite name="${p.tests}/c.yaml" tests="1" failures="0" errors="1">
    <testcase classname="${p.tests}/c.yaml" name="load"><error message="${p.tests}/c.yaml: expected a list of cases or a mapping with &quot;cases:&quot;"/></testcase>
  </testsuite>
</testsuites>
`,
    );
  });

  it('--coverage: lines no case exercises, and lines seen deciding one way only', async () => {
    const p = project({ 'a.yaml': GOOD });
    const r = await cli(['test', '--config', p.config, '--coverage']);
    assert.equal(r.code, 0);
    const at = `${p.dir}/policy.csv`;
    assert.deepEqual(r.out, [
      'coverage: 3 of 5 rule lines exercised by 3 cases',
      `only seen deciding allow: ${at}:1: p, authenticated, *, connect, allow (matched 1 case(s))`,
      `not exercised: ${at}:4: p, role:member, tasks.*, rpc, allow`,
      `not exercised: ${at}:5: p, role:x, chat:*, publish, allow`,
      '3 passed, 0 failed',
    ]);
    const json = JSON.parse((await cli(['test', '--config', p.config, '--coverage', '--json'])).out[0] ?? '{}') as { coverage: unknown[] };
    assert.deepEqual(json.coverage, [
      { file: at, line: 1, rule: 'p, authenticated, *, connect, allow', cases: 1, allow: 1, deny: 0 },
      { file: at, line: 2, rule: 'p, role:member, chat:*, subscribe, allow', cases: 2, allow: 1, deny: 1 },
      { file: at, line: 3, rule: 'p, role:member, chat:secret, subscribe, deny', cases: 1, allow: 0, deny: 1 },
      { file: at, line: 4, rule: 'p, role:member, tasks.*, rpc, allow', cases: 0, allow: 0, deny: 0 },
      { file: at, line: 5, rule: 'p, role:x, chat:*, publish, allow', cases: 0, allow: 0, deny: 0 },
    ]);
  });

  it('--coverage names an allow line that only ever matched denied cases', async () => {
    const p = project({ 'a.yaml': 'cases:\n  - { note: secret, user: "1", roles: [role:member], action: subscribe, object: "chat:secret", expect: deny }\n' });
    const r = await cli(['test', '--config', p.config, '--coverage', '--file', 'a.yaml']);
    assert.equal(
      r.out.find((l) => l.includes(':2:')),
      `only seen deciding deny: ${p.dir}/policy.csv:2: p, role:member, chat:*, subscribe, allow (matched 1 case(s), each denied by another line: no case shows it allowing)`,
    );
  });
});
