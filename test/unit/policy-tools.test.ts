/** `check` warnings and `diff` on known policies. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { pino } from 'pino';
import { DecisionLog } from '../../src/policy/decision-log.js';
import { lintRules } from '../../src/policy/lint.js';
import { buildEngine } from '../../src/policy/policy-store.js';
import { parsePolicyText } from '../../src/policy/policy-source.js';
import { ROOT } from '../helpers/harness.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out, err };
}

const SHIPPED = readFileSync(join(ROOT, 'policies/policy.csv'), 'utf8');

function policyDir(csv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-diff-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  writeFileSync(join(dir, 'policy.csv'), csv);
  return dir;
}

describe('check warnings', () => {
  it('duplicates and allows that a deny always overrides', () => {
    const rules = parsePolicyText(
      [
        'p, role:member, chat:*, publish, allow',
        'p, role:member, chat:*, publish, allow',
        'p, role:member, chat:lobby, subscribe, allow',
        'p, role:member, chat:*, subscribe, deny',
        'p, role:member, news:{user}, subscribe, allow',
        'p, role:member, news:*, publish, deny',
        'p, role:guest, *, rpc, deny',
        'p, role:guest, tasks.get, rpc, allow',
        'p, role:guest, tasks.*, rpc, allow',
      ].join('\n'),
      'p.csv',
    );
    assert.deepEqual(lintRules(rules), [
      'p.csv:2: duplicate of p.csv:1',
      'p.csv:3: this allow never takes effect: p.csv:4 denies the same subject and action for every object it matches',
      'p.csv:8: this allow never takes effect: p.csv:7 denies the same subject and action for every object it matches',
      'p.csv:9: this allow never takes effect: p.csv:7 denies the same subject and action for every object it matches',
    ]);
  });

  it('the shipped policy has no warnings', async () => {
    const r = await cli(['check', '--config', `${ROOT}/config/default.yaml`]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.out.filter((l) => l.startsWith('warning:')), []);
  });
});

describe('diff', () => {
  const oldDir = policyDir(SHIPPED);
  const newDir = policyDir(SHIPPED.replace('p, role:guest, chat:lobby, subscribe, allow', 'p, role:guest, chat:*, subscribe, allow') + 'p, 56, chat:lobby, subscribe, deny\n');
  const requests = join(mkdtempSync(join(tmpdir(), 'cpp-diff-')), 'requests.ndjson');
  writeFileSync(
    requests,
    [
      { user: '56', roles: ['role:member'], action: 'subscribe', object: 'chat:lobby' },
      { user: '7', roles: ['role:guest'], action: 'subscribe', object: 'chat:room1' },
      { user: '7', roles: ['role:guest'], action: 'subscribe', object: 'chat:lobby' },
      { user: '8', roles: [], action: 'connect', object: '' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );

  it('prints each request that changes decision, with the rules, and a summary', async () => {
    const r = await cli(['diff', '--old', oldDir, '--new', newDir, '--requests', requests]);
    assert.equal(r.code, 0, r.err.join('\n'));
    const changed = r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      changed.map((c) => [c.line, c.user, c.object, c.old, c.new]),
      [
        [1, '56', 'chat:lobby', 'allow', 'deny'],
        [2, '7', 'chat:room1', 'deny', 'allow'],
      ],
    );
    assert.match(String(changed[0]?.new_rule), /policy\.csv:\d+: p, 56, chat:lobby, subscribe, deny$/);
    assert.deepEqual(r.out.slice(2, -1), [
      `by rule: 1 deny → allow: ${newDir}/policy.csv:21: p, role:guest, chat:*, subscribe, allow (new)`,
      `by rule: 1 allow → deny: ${newDir}/policy.csv:55: p, 56, chat:lobby, subscribe, deny (new)`,
    ]);
    assert.match(r.out.at(-1) ?? '', /^4 requests, 2 changed \(policy [0-9a-f]{12} → [0-9a-f]{12}\)$/);
  });

  it('--fail-on-change exits 1 when anything changes, 0 when nothing does', async () => {
    assert.equal((await cli(['diff', '--old', oldDir, '--new', newDir, '--requests', requests, '--fail-on-change'])).code, 1);
    assert.equal((await cli(['diff', '--old', oldDir, '--new', oldDir, '--requests', requests, '--fail-on-change'])).code, 0);
  });

  it('by rule: an allow that no longer matches is named from the old policy; counts add up', async () => {
    const narrower = policyDir(SHIPPED.replace('p, role:member, chat:*, subscribe, allow', 'p, role:member, chat:room*, subscribe, allow'));
    const sample = join(mkdtempSync(join(tmpdir(), 'cpp-diff-')), 'sample.ndjson');
    const member = (object: string) => JSON.stringify({ user: '5', roles: ['role:member'], action: 'subscribe', object });
    writeFileSync(sample, [member('chat:lobby'), member('chat:room1'), member('chat:x'), member('chat:archive:1')].join('\n'));
    const r = await cli(['diff', '--old', oldDir, '--new', narrower, '--requests', sample]);
    assert.deepEqual(r.out.filter((l) => !l.startsWith('{')).slice(0, -1), [`by rule: 3 allow → deny: ${oldDir}/policy.csv:18: p, role:member, chat:*, subscribe, allow (old)`]);
  });

  it('decision log lines (denies all, allows sampled) are a diff sample as they are (docs/policies.md)', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line.trim()) });
    const engine = await buildEngine({ model: join(oldDir, 'model.conf'), policy: oldDir });
    const decisions = new DecisionLog(log.child({ component: 'decision_log' }), 0.5, undefined, () => 0.25);
    log.info('some other line');
    for (const query of [
      { user: '56', roles: ['role:member'], action: 'subscribe', object: 'chat:lobby' },
      { user: '7', roles: ['role:guest'], action: 'subscribe', object: 'chat:room1' },
    ]) {
      decisions.record(query, engine.decide(query), engine, false);
    }
    // grep '"msg":"decision"' proxy.log > sample.ndjson
    const sample = join(mkdtempSync(join(tmpdir(), 'cpp-diff-')), 'sample.ndjson');
    writeFileSync(sample, lines.filter((l) => l.includes('"msg":"decision"')).join('\n'));
    const r = await cli(['diff', '--old', oldDir, '--new', newDir, '--requests', sample]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(
      r.out.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { old: string; new: string }).old + '→' + (JSON.parse(l) as { new: string }).new),
      ['allow→deny', 'deny→allow'],
    );
  });

  it('a bad request line is reported with file and line', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'cpp-diff-')), 'bad.ndjson');
    writeFileSync(bad, '{"user":"1","action":"subscribe","object":"x"}\n{"user":1}\n');
    const r = await cli(['diff', '--old', oldDir, '--new', newDir, '--requests', bad]);
    assert.equal(r.code, 2);
    assert.deepEqual(r.err, [`${bad}:2: expected {"user": string, "roles": [string], "action": string, "object": string}`]);
  });
});
