/**
 * A reload shares the event loop with the requests (time-slices.ts): lint and the policy test
 * cases run in slices on a reload and at once for `check` and the policy page, with the same
 * results, and while a large policy reloads the live one keeps answering. The slicing tests use
 * a fake clock, so the number of event-loop turns is exact whatever the machine's load; the
 * last test uses the real clock and asserts loosely: it fails when a phase runs as one block.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it, mock } from 'node:test';
import pino from 'pino';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PolicyPageAnswers } from '../../src/admin/policy-page/answers.js';
import { DisagreementRing } from '../../src/policy/disagreements.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { lintPolicy, lintPolicyInSlices } from '../../src/policy/lint.js';
import { parsePolicyText, readPolicySource, type PolicyRule, type PolicySource } from '../../src/policy/policy-source.js';
import { PolicyStore } from '../../src/policy/policy-store.js';
import { loadTestCases, runTestCases, testCaseLoadSteps, testCaseSteps, type PolicyTestCase } from '../../src/policy/test-cases.js';
import { runAtOnce, runInSlices, type Steps } from '../../src/policy/time-slices.js';
import { yamlSteps } from '../../src/policy/yaml-steps.js';
import { DEFAULT_MODEL, generatePolicy } from '../helpers/policy-generator.js';
import { turnsDuring } from '../helpers/event-loop-turns.js';

/** A clock that moves `step` ms on by every reading. */
function fakeClock(step: number): void {
  let now = 1000;
  mock.method(performance, 'now', () => (now += step));
}

afterEach(() => mock.restoreAll());

/** Temp dirs of this file, removed at the end. */
const dirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `count` steps, then the number of steps taken. */
function* counting(count: number): Steps<number> {
  let taken = 0;
  for (let i = 0; i < count; i++) {
    yield;
    taken++;
  }
  return taken;
}

describe('runInSlices checks the clock every 32 steps and yields once a slice ran over 2 ms', () => {
  // [what, ms per clock reading, steps, event-loop turns]
  const cases: Array<[string, number, number, number]> = [
    ['a stopped clock: no turns', 0, 32 * 30, 0],
    // Every check reads 3 ms more than the slice's start (or the last restart): each one yields.
    ['3 ms per reading: every check yields', 3, 32 * 30, 30],
    // 1 ms per reading: 1, 2, then 3 ms > 2 ms; the restart reads the clock once more.
    ['1 ms per reading: every third check yields', 1, 32 * 30, 10],
    ['fewer than 32 steps: no check, no turn', 3, 31, 0],
  ];
  for (const [what, step, count, expected] of cases) {
    it(what, async () => {
      fakeClock(step);
      const [turns, taken] = await turnsDuring(() => runInSlices(counting(count)));
      mock.restoreAll();
      assert.equal(turns, expected);
      assert.equal(taken, count);
      assert.equal(runAtOnce(counting(count)), count);
    });
  }
});

/** Lines with one problem of each kind lint knows (lint.ts), appended to a generated policy. */
const KNOWN_PROBLEMS = [
  'p, role:r1, ns1:room1, subscribe, allow',
  'p, role:r1, ns1:room1, subscribe, allow',
  'p, role:r2, ns2:*, subscribe, allow',
  'p, role:r2, ns2:*, subscribe, deny',
  'p, role:r3, x:*, publsh, allow',
  'p, role:r3, x:*, *, allow',
  'p, role:r3, room with space, subscribe, allow',
  'p, role:r3, chat:*, connect, allow',
  'p, moderators, chat:*, publish, allow',
  'g, role:cycle-a, role:cycle-b',
  'g, role:cycle-b, role:cycle-a',
  'g, someone, role:nothing-granted',
];

/** A generated policy (nested roles, denies over allows, odd names) plus KNOWN_PROBLEMS. */
function policyWithProblems(seed: number, size: number): PolicySource {
  const { source } = generatePolicy(seed, size, DEFAULT_MODEL, { boundaries: true });
  const extra = parsePolicyText(KNOWN_PROBLEMS.join('\n'), 'problems.csv');
  return { ...source, rules: [...source.rules, ...extra], files: [...source.files, 'problems.csv'] };
}

describe('lint and policy test cases in slices give what they give at once', () => {
  it('lint: every warning, in the same order, from a run that yielded hundreds of times', async () => {
    const source = policyWithProblems(21, 6000);
    const atOnce = lintPolicy(source);
    fakeClock(3);
    const [turns, sliced] = await turnsDuring(() => lintPolicyInSlices(source));
    mock.restoreAll();
    assert.ok(turns > 100, `event-loop turns during lint: ${turns}`);
    assert.deepEqual(sliced, atOnce);
    // The problems put there are found, so the comparison is not one of two empty lists.
    const kinds = ['duplicate of', 'this allow never takes effect', 'unknown action', 'action "*" is not a wildcard', 'contains whitespace', 'of connect is always ""', 'looks like a role', 'role cycle', 'gives nothing'];
    for (const kind of kinds) assert.ok(sliced.some((w) => w.includes(kind)), `a "${kind}" warning`);
    assert.ok(sliced.length > 100, `warnings: ${sliced.length}`);
  });

  it('lint: two reloads linting at once, interleaved, each get the warnings of their own policy', async () => {
    const [a, b] = [policyWithProblems(22, 3000), policyWithProblems(23, 4000)];
    const expected = [lintPolicy(a), lintPolicy(b)];
    fakeClock(3);
    const [turns, both] = await turnsDuring(() => Promise.all([lintPolicyInSlices(a), lintPolicyInSlices(b)]));
    mock.restoreAll();
    assert.ok(turns > 100, `event-loop turns: ${turns}`);
    assert.notDeepEqual(expected[0], expected[1]);
    assert.deepEqual(both, expected);
  });

  it('policy test cases: the same outcomes, case by case', async () => {
    const generated = generatePolicy(24, 3000, DEFAULT_MODEL, { boundaries: true });
    const engine = await IndexedEngine.build(generated.source);
    const cases = generated.requests(2000).map((q, index) => ({ ...q, note: `case ${index}`, expect: index % 2 ? 'allow' : 'deny', file: 'cases.yaml', index }) as PolicyTestCase);
    const atOnce = runTestCases(engine, cases);
    fakeClock(3);
    const [turns, sliced] = await turnsDuring(() => runInSlices(testCaseSteps(engine, cases)));
    mock.restoreAll();
    // A check every 32 cases, each 3 ms past the last: every one yields.
    assert.equal(turns, Math.floor(2000 / 32));
    assert.deepEqual(sliced, atOnce);
    assert.ok(new Set(sliced.map((o) => o.got)).size === 2 && new Set(sliced.map((o) => o.passed)).size === 2, 'allows and denies, passes and failures');
  });
});

/** What parseYaml gives for a text: its value, or the message it throws. */
function parsedAtOnce(text: string): unknown {
  try {
    return { value: parseYaml(text) as unknown };
  } catch (err) {
    return { thrown: (err as Error).message };
  }
}

async function parsedInSlices(text: string): Promise<unknown> {
  try {
    return { value: await runInSlices(yamlSteps(text)) };
  } catch (err) {
    return { thrown: (err as Error).message };
  }
}

describe('policy test files parsed in slices give what parseYaml gives', () => {
  const block = stringifyYaml({ cases: Array.from({ length: 300 }, (_, i) => ({ note: `case ${i}`, user: `u${i}`, roles: ['role:r1'], action: 'subscribe', object: `ns${i}:room`, expect: i % 2 ? 'allow' : 'deny' })) });
  // [what, text]
  const texts: Array<[string, string]> = [
    ['300 cases in block style', block],
    ['flow style (JSON)', JSON.stringify([{ note: 'n', user: 1, action: 'connect', object: '', expect: 'allow' }])],
    ['anchors, aliases and merge-free reuse', 'base: &b { note: n, user: u, action: rpc, object: m, expect: deny }\ncases: [*b, *b]\n'],
    ['numbers, booleans, nulls, quoted and folded strings', 'cases:\n  - { note: "a: b", user: 007, roles: [], action: rpc, object: >-\n      folded text, expect: allow, extra: ~ }\n'],
    ['an empty file', ''],
    ['only a comment', '# nothing yet\n'],
    ['a syntax error', 'cases:\n  - note: [unclosed\n'],
    ['a tab indentation error', 'cases:\n\t- note: x\n'],
    ['a duplicate key', 'cases: []\ncases: []\n'],
    ['two documents', 'cases: []\n---\ncases: []\n'],
    ['an unresolved tag (a warning)', 'cases: !custom []\n'],
  ];
  for (const [what, text] of texts) {
    it(what, async () => {
      assert.deepEqual(await parsedInSlices(text), parsedAtOnce(text));
    });
  }

  it('a large file is read in many slices', async () => {
    fakeClock(3);
    const [turns, value] = await turnsDuring(() => runInSlices(yamlSteps(block)));
    mock.restoreAll();
    assert.ok(turns > 100, `event-loop turns: ${turns}`);
    assert.deepEqual(value, parseYaml(block));
  });

  it('loadTestCases in slices: the same cases and problems', async () => {
    const dir = tempDir('cpp-reload-cases-');
    writeFileSync(join(dir, 'a.yaml'), block);
    writeFileSync(join(dir, 'b.yaml'), 'cases:\n  - { note: no object, user: u, action: subscribe, expect: allow }\n  - { note: ok, user: u, action: connect, object: "", expect: deny }\n');
    writeFileSync(join(dir, 'c.yaml'), 'cases: [\n');
    const atOnce = loadTestCases(dir);
    fakeClock(3);
    const [turns, sliced] = await turnsDuring(() => runInSlices(testCaseLoadSteps(dir)));
    mock.restoreAll();
    assert.ok(turns > 100, `event-loop turns: ${turns}`);
    assert.deepEqual(sliced, atOnce);
    assert.equal(atOnce.cases.length, 301);
    assert.deepEqual(atOnce.problems.map((p) => p.replace(dir, 'DIR')), ['DIR/b.yaml: cases[0].object: required', atOnce.problems[1]?.replace(dir, 'DIR')]);
    assert.match(atOnce.problems[1] ?? '', /c\.yaml: invalid YAML: /);
  });
});

describe('the policy page lints and runs the tests in slices', () => {
  it('its first look at a large policy yields to the event loop and shows the same warnings', async () => {
    const source = policyWithProblems(26, 4000);
    const engine = await IndexedEngine.build(source);
    const dir = tempDir('cpp-page-cases-');
    writeFileSync(join(dir, 'cases.yaml'), stringifyYaml({ cases: Array.from({ length: 200 }, (_, i) => ({ note: `n${i}`, user: `u${i}`, action: 'subscribe', object: `ns${i}:room1`, expect: 'deny' })) }));
    const policyConfig = { role_prefixes: ['role:'], tests: dir, mode: 'enforce' } as unknown as ConstructorParameters<typeof PolicyPageAnswers>[0]['policyConfig'];
    const answers = new PolicyPageAnswers({ policy: { loaded: () => true, current: () => engine, lastFailure: () => undefined }, disagreements: new DisagreementRing(10), policyConfig });
    fakeClock(3);
    const [turns, described] = await turnsDuring(() => answers.policy());
    const [testTurns, tests] = await turnsDuring(() => answers.tests());
    mock.restoreAll();
    assert.ok(turns > 100, `event-loop turns while linting for the page: ${turns}`);
    assert.ok(testTurns > 10, `event-loop turns while running the tests for the page: ${testTurns}`);
    assert.deepEqual(described.warnings, lintPolicy(source, ['role:']));
    assert.equal(JSON.stringify(tests).includes('"n199"'), true);
  });
});

/** CPU time this process has used, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The rules as the service's policy.csv holds them. */
const csv = (rules: readonly PolicyRule[]) => rules.map((r) => [r.ptype, ...r.values].join(', ')).join('\n');

describe('decisions are answered while a large policy reloads', () => {
  it('a 1 ms decision task is never held for long, while 60,000 rules are read, indexed, tested and linted', async () => {
    const dir = tempDir('cpp-reload-slices-');
    const model = join(dir, 'model.conf');
    const policy = join(dir, 'policy.csv');
    const tests = join(dir, 'tests.yaml');
    writeFileSync(model, DEFAULT_MODEL);
    writeFileSync(policy, 'p, authenticated, chat:*, subscribe, allow\n');
    writeFileSync(tests, 'cases:\n  - { note: chat, user: alice, action: subscribe, object: "chat:x", expect: allow }\n');
    const store = new PolicyStore({ model, policy, tests }, pino({ level: 'silent' }));
    await store.load();

    // Without the generator's `p, authenticated|anonymous, *, ACTION, deny` lines, which would deny the test case.
    const big = policyWithProblems(25, 60_000);
    const rules = big.rules.filter((r) => !(r.ptype === 'p' && r.values[1] === '*' && r.values[3] === 'deny' && ['authenticated', 'anonymous'].includes(r.values[0] ?? '')));
    writeFileSync(policy, `p, authenticated, chat:*, subscribe, allow\n${csv(rules)}\n`);
    const query = { user: 'alice', roles: [], action: 'subscribe', object: 'chat:x' };
    // The timer's waits in CPU time, not wall time: on a busy machine the process is also
    // held by the scheduler, for hundreds of ms, which no slicing can prevent.
    const waits: number[] = [];
    let answered = 0;
    let last = cpuMs();
    const timer = setInterval(() => {
      const now = cpuMs();
      waits.push(now - last);
      last = now;
      if (store.current().decide(query)) answered++;
    }, 1);
    const started = cpuMs();
    const outcome = await store.reload('test');
    const reloadMs = cpuMs() - started;
    // One more tick, so that a block at the very end of the reload is counted too.
    const ticks = waits.length;
    while (waits.length === ticks) await new Promise((resolve) => setTimeout(resolve, 1));
    clearInterval(timer);

    assert.deepEqual(outcome, { result: 'loaded', version: store.current().version });
    assert.equal(store.current().source.rules.length, rules.length + 1);
    // Lint at once, the longest phase as one block, sets the scale: in slices the timer's longest
    // wait is a small part of it (a slice, a GC pause); with any phase as one block, most of it.
    const lintStarted = cpuMs();
    lintPolicy(store.current().source);
    const lintAtOnceMs = cpuMs() - lintStarted;
    const longest = Math.max(...waits);
    const why = `longest wait ${longest.toFixed(1)} ms CPU of a ${reloadMs.toFixed(0)} ms CPU reload; lint at once ${lintAtOnceMs.toFixed(0)} ms CPU`;
    assert.ok(answered >= 20, `decisions answered during the reload: ${answered}`);
    assert.ok(longest < lintAtOnceMs / 4, why);
    // And the same files read at once give the same policy.
    const atOnce = readPolicySource(model, policy);
    assert.equal(store.current().version, atOnce.version);
    assert.deepEqual(loadTestCases(tests).problems, []);
  });
});
