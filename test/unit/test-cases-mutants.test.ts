/**
 * Policy test cases (test-cases.ts) read and run directly, with exact cases, problems and
 * failure lines: what the mutation run of that file (TESTING.md) showed the CLI tests of
 * policy-test-command.test.ts leave open.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PolicyEngine, PolicyQuery } from '../../src/policy/engine.js';
import { describeFailure, loadTestCases, runTestCases, testCaseLoadSteps, testFiles, type PolicyTestCase } from '../../src/policy/test-cases.js';
import { runAtOnce } from '../../src/policy/time-slices.js';

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function suite(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-test-cases-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('test-cases: testFiles', () => {
  it('no directory configured or none there: no files', () => {
    assert.deepEqual(testFiles(''), []);
    assert.deepEqual(testFiles(join(tmpdir(), 'cpp-test-cases-missing-dir')), []);
  });

  it('a file is itself, a directory its .yaml and .yml files in name order', () => {
    const dir = suite({ 'b.yml': '[]', 'c.yaml': '[]', 'a.yaml': '[]', 'notes.txt': '', 'd.yaml.bak': '', 'yaml': '' });
    mkdirSync(join(dir, 'sub'));
    assert.deepEqual(testFiles(dir), [join(dir, 'a.yaml'), join(dir, 'b.yml'), join(dir, 'c.yaml')]);
    assert.deepEqual(testFiles(join(dir, 'notes.txt')), [join(dir, 'notes.txt')]);
  });
});

describe('test-cases: loadTestCases', () => {
  const dir = suite({
    'a.yaml': [
      '- { note: "", user: 1, action: connect, object: "", expect: allow }',
      '- { note: x, user: null, action: connect, object: "", expect: allow }',
      '- hello',
      '- { note: x, user: "1", action: connect, object: "", expect: allow, extra: 1 }',
      '- { note: x, user: "1", roles: [1], action: conect, object: 5, expect: maybe }',
      '- { note: numbers, user: 7, action: publish, object: 12, expect: deny }',
      '- { note: refresh with an object, user: "1", action: refresh, object: x, expect: allow }',
      '- { note: rpc without one, user: "1", action: rpc, object: "", expect: allow }',
      '- { note: no roles, action: subscribe }',
      '',
    ].join('\n'),
    'b.yml': 'cases: []\nother: 1\n',
    'c.yaml': 'a: [\n',
    'd.yaml': [
      'cases:',
      '  - { note: refresh, user: "2", roles: [role:a, role:b], action: refresh, object: "", expect: allow }',
      '  - { note: sub_refresh, user: "2", action: sub_refresh, object: "chat:a", expect: deny }',
      '  - { note: rpc, user: "2", action: rpc, object: "m", expect: allow }',
      '',
    ].join('\n'),
  });
  const a = join(dir, 'a.yaml');

  it('every case that fits, with its file and index; one problem per issue, naming file and case', () => {
    const loaded = loadTestCases(dir);
    assert.deepEqual(loaded.cases, [
      { note: 'numbers', user: '7', roles: [], action: 'publish', object: '12', expect: 'deny', file: a, index: 5 },
      { note: 'refresh', user: '2', roles: ['role:a', 'role:b'], action: 'refresh', object: '', expect: 'allow', file: join(dir, 'd.yaml'), index: 0 },
      { note: 'sub_refresh', user: '2', roles: [], action: 'sub_refresh', object: 'chat:a', expect: 'deny', file: join(dir, 'd.yaml'), index: 1 },
      { note: 'rpc', user: '2', roles: [], action: 'rpc', object: 'm', expect: 'allow', file: join(dir, 'd.yaml'), index: 2 },
    ]);
    assert.deepEqual(loaded.problems, [
      `${a}: cases[0].note: String must contain at least 1 character(s)`,
      `${a}: cases[1].user: Invalid input`,
      `${a}: cases[2]: Expected object, received string`,
      `${a}: cases[3]: Unrecognized key(s) in object: 'extra'`,
      `${a}: cases[4].roles.0: Expected string, received number`,
      `${a}: cases[4].action: Invalid enum value. Expected 'connect' | 'refresh' | 'subscribe' | 'publish' | 'sub_refresh' | 'rpc', received 'conect'`,
      `${a}: cases[4].expect: Invalid enum value. Expected 'allow' | 'deny', received 'maybe'`,
      `${a}: cases[6].object: the object of refresh is always "" (write object: "")`,
      `${a}: cases[7].object: rpc needs a non-empty object (a channel or an RPC method)`,
      `${a}: cases[8].user: required`,
      `${a}: cases[8].object: required`,
      `${a}: cases[8].expect: required`,
      `${join(dir, 'b.yml')}: expected a list of cases or a mapping with "cases:"`,
      `${join(dir, 'c.yaml')}: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:`,
    ]);
  });

  it('only the files the filter keeps are read', () => {
    assert.deepEqual(loadTestCases(dir, (file) => file.endsWith('.yml')), { cases: [], problems: [`${join(dir, 'b.yml')}: expected a list of cases or a mapping with "cases:"`] });
    assert.deepEqual(loadTestCases(dir, () => false), { cases: [], problems: [] });
    // The steps a reload runs read every file too when given no filter.
    assert.deepEqual(runAtOnce(testCaseLoadSteps(dir)), loadTestCases(dir));
    assert.equal(runAtOnce(testCaseLoadSteps(dir)).cases.length, 4);
  });
});

describe('test-cases: running and describing', () => {
  const testCase = (over: Partial<PolicyTestCase>): PolicyTestCase => ({ note: 'n', user: '1', roles: [], action: 'subscribe', object: 'chat:a', expect: 'allow', file: 't.yaml', index: 0, ...over });

  it('asks the engine each case\'s query and compares its answer with expect', () => {
    const asked: PolicyQuery[] = [];
    const engine = { decide: (q: PolicyQuery) => (asked.push(q), q.object === 'chat:open') } as unknown as PolicyEngine;
    const cases = [
      testCase({ object: 'chat:open' }),
      testCase({ object: 'chat:shut', user: '2', roles: ['role:a'], action: 'publish' }),
      testCase({ object: 'chat:shut', expect: 'deny' }),
      testCase({ object: 'chat:open', expect: 'deny' }),
    ];
    const outcomes = runTestCases(engine, cases);
    assert.deepEqual(outcomes.map((o) => [o.testCase, o.passed, o.got]), [
      [cases[0], true, 'allow'],
      [cases[1], false, 'deny'],
      [cases[2], true, 'deny'],
      [cases[3], false, 'allow'],
    ]);
    assert.deepEqual(asked[1], { user: '2', roles: ['role:a'], action: 'publish', object: 'chat:shut' });
    assert.equal(asked.length, 4);
  });

  it('a failure line names file, index, note, the request (roles only when there are some) and both answers', () => {
    assert.equal(
      describeFailure({ testCase: testCase({ roles: ['role:a', 'role:b'], index: 3, note: 'members read' }), passed: false, got: 'deny' }),
      'FAIL t.yaml cases[3] "members read": user="1" roles=role:a,role:b subscribe "chat:a" expected allow, got deny',
    );
    assert.equal(
      describeFailure({ testCase: testCase({ user: '', action: 'connect', object: '', expect: 'deny' }), passed: false, got: 'allow' }),
      'FAIL t.yaml cases[0] "n": user="" connect "" expected deny, got allow',
    );
  });
});
