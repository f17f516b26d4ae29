/**
 * PolicyStore and buildTestedEngine on temp files, with the log captured: what a load, a reload
 * (loaded, unchanged, refused, unexpected), overlapping reloads and the file watch give, to the
 * byte. Written for mutation testing (TESTING.md, "policy-store, replica-sync, disagreements");
 * policy-reload.test.ts covers the same through the served transports.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it, mock } from 'node:test';
import { pino } from 'pino';
import type { PolicyEngine } from '../../src/policy/engine.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { buildEngine, buildTestedEngine, PolicyRejected, PolicyStore, type PolicyPaths, type ReloadOutcome } from '../../src/policy/policy-store.js';
import { ROOT } from '../helpers/harness.js';

const MODEL = readFileSync(join(ROOT, 'policies/model.conf'), 'utf8');
const GOOD = 'p, authenticated, chat:*, subscribe, allow\n';
const CASE = (expect: string, note = 'chat') => `  - { note: ${note}, user: alice, action: subscribe, object: "chat:x", expect: ${expect} }\n`;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => mock.restoreAll());

/** model.conf, policy.csv (or a policy.d folder) and tests.yaml in a fresh temp dir. */
function files(policy: string, options: { tests?: string; model?: string; split?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-store-'));
  dirs.push(dir);
  const model = join(dir, 'model.conf');
  writeFileSync(model, options.model ?? MODEL);
  let policyPath = join(dir, 'policy.csv');
  if (options.split) {
    policyPath = join(dir, 'policy.d');
    mkdirSync(policyPath);
    writeFileSync(join(policyPath, '10-a.csv'), policy);
  } else {
    writeFileSync(policyPath, policy);
  }
  const tests = join(dir, 'tests.yaml');
  writeFileSync(tests, `cases:\n${options.tests ?? CASE('allow')}`);
  return { dir, model, policy: policyPath, tests };
}

/** A logger whose lines are kept as parsed JSON (time and pid dropped). */
function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** A store with its log, change and reload events recorded. */
function recordedStore(paths: PolicyPaths) {
  const { log, lines } = captured();
  const store = new PolicyStore(paths, log);
  const changes: PolicyEngine[] = [];
  const reloads: Array<[ReloadOutcome, string]> = [];
  store.onChange((engine) => changes.push(engine));
  store.onReload((outcome, reason) => reloads.push([outcome, reason]));
  return { store, lines, changes, reloads };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
}

const DUPLICATE = 'p, authenticated, chat:*, subscribe, allow\np, authenticated, chat:*, subscribe, allow\n';
const duplicateWarning = (policy: string, line = 2) => `${policy}:${line}: duplicate of ${policy}:1`;

describe('PolicyStore.load', () => {
  it('before a load nothing is served; the load swaps the engine in, logs it and tells the listeners', async () => {
    const paths = files(GOOD);
    const { store, lines, changes } = recordedStore(paths);
    assert.equal(store.loaded(), false);
    assert.throws(() => store.current(), { message: 'policy not loaded' });
    const engine = await store.load();
    assert.equal(store.loaded(), true);
    assert.equal(store.current(), engine);
    assert.deepEqual(changes, [engine]);
    assert.equal(engine.evaluator, 'indexed');
    assert.deepEqual(lines, [{ level: 30, policy_version: engine.version, rules: 1, evaluator: 'indexed', msg: 'policy loaded' }]);
  });

  it('loading the same version again swaps silently: no log line, no listener call', async () => {
    const { store, lines, changes } = recordedStore(files(GOOD));
    const first = await store.load();
    const second = await store.load();
    assert.equal(second.version, first.version);
    assert.equal(store.current(), second);
    assert.deepEqual(changes, [first]);
    assert.equal(lines.length, 1);
  });

  it('lint problems are logged as one warning after the load line', async () => {
    const paths = files(DUPLICATE);
    const { store, lines } = recordedStore(paths);
    const engine = await store.load();
    assert.deepEqual(lines.slice(1), [
      { level: 40, policy_version: engine.version, warnings: [duplicateWarning(paths.policy)], msg: 'policy has 1 lint problem(s) (policy.strict: true refuses such a policy)' },
    ]);
  });

  it('a policy that does not load is refused with every problem, joined by "; "', async () => {
    const paths = files('p, a, chat:*, subscribe, alow\np, b, chat:*, subscribe, maybe\n');
    const { store } = recordedStore(paths);
    await assert.rejects(store.load(), (err: Error) => {
      assert.ok(err instanceof PolicyRejected);
      assert.equal(err.message, `${paths.policy}:1: effect must be "allow" or "deny", got "alow"; ${paths.policy}:2: effect must be "allow" or "deny", got "maybe"`);
      return true;
    });
    assert.equal(store.loaded(), false);
  });
});

describe('buildTestedEngine', () => {
  it('a model of another shape runs on casbin and says why', async () => {
    const paths = files(GOOD, { model: MODEL.replace('e = some(where (p.eft == allow)) && !some(where (p.eft == deny))', 'e = some(where (p.eft == allow))') });
    const { engine } = await buildTestedEngine(paths);
    assert.equal(engine.evaluator, 'casbin (policy_effect is not deny-override)');
    assert.equal((await buildEngine(paths)).evaluator, 'casbin (policy_effect is not deny-override)');
  });

  it('policy.role_prefixes reach the engine and lint', async () => {
    const policy = 'p, team:ops, chat:*, subscribe, allow\np, moderators, chat:*, publish, allow\n';
    const query = { user: 'team:ops', roles: [], action: 'subscribe', object: 'chat:x' };
    const withPrefix = files(policy, { tests: CASE('deny') });
    const { engine, warnings } = await buildTestedEngine({ ...withPrefix, role_prefixes: ['team:'] });
    // A user whose ID starts with a role prefix never gets that role's rules.
    assert.equal(engine.decide(query), false);
    assert.deepEqual(warnings, [
      `${withPrefix.policy}:2: subject "moderators" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (team:); a user with that ID would get this line`,
    ]);
    const defaults = files(policy, { tests: CASE('deny') });
    assert.equal((await buildTestedEngine(defaults)).engine.decide(query), true);
    assert.equal((await buildEngine({ ...defaults, role_prefixes: ['team:'] })).decide(query), false);
  });

  it('test case problems come first, then failures; at most five are named', async () => {
    const failing = Array.from({ length: 6 }, (_, i) => CASE('deny', `n${i}`)).join('');
    const paths = files(GOOD, { tests: `${failing}  - { note: no object, user: alice, action: subscribe, expect: allow }\n` });
    const fail = (i: number) => `FAIL ${paths.tests} cases[${i}] "n${i}": user="alice" subscribe "chat:x" expected deny, got allow`;
    await assert.rejects(buildTestedEngine(paths), (err: Error) => {
      assert.ok(err instanceof PolicyRejected);
      assert.equal(err.message, `7 policy test problem(s): ${paths.tests}: cases[6].object: required; ${[0, 1, 2, 3].map(fail).join('; ')}`);
      return true;
    });
  });

  it('passing test cases and no tests path both load', async () => {
    const paths = files(GOOD);
    assert.deepEqual((await buildTestedEngine(paths)).warnings, []);
    assert.deepEqual((await buildTestedEngine({ ...paths, tests: '' })).warnings, []);
    // With no tests path, a case that would fail is not read.
    const failing = files(GOOD, { tests: CASE('deny') });
    await assert.rejects(buildTestedEngine(failing), PolicyRejected);
    assert.equal((await buildTestedEngine({ ...failing, tests: '' })).engine.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'chat:x' }), true);
  });

  it('policy.strict refuses a policy with lint problems (five named), and only then', async () => {
    const paths = files(DUPLICATE);
    assert.deepEqual((await buildTestedEngine(paths)).warnings, [duplicateWarning(paths.policy)]);
    await assert.rejects(buildTestedEngine({ ...paths, strict: true }), {
      name: 'Error',
      message: `1 lint problem(s) and policy.strict is on: ${duplicateWarning(paths.policy)}`,
    });
    assert.deepEqual((await buildTestedEngine({ ...files(GOOD), strict: true })).warnings, []);

    const eight = files(Array.from({ length: 8 }, () => GOOD).join(''));
    const expected = [2, 3, 4, 5, 6].map((line) => duplicateWarning(eight.policy, line));
    await assert.rejects(buildTestedEngine({ ...eight, strict: true }), (err: Error) => {
      assert.ok(err instanceof PolicyRejected);
      assert.equal(err.message, `7 lint problem(s) and policy.strict is on: ${expected.join('; ')}`);
      return true;
    });
  });

  it('an error that is not a policy problem passes through as it is', async () => {
    const boom = new Error('boom');
    mock.method(IndexedEngine, 'build', () => Promise.reject(boom));
    await assert.rejects(buildTestedEngine(files(GOOD)), (err) => err === boom);
  });
});

describe('PolicyStore.reload', () => {
  it('unchanged files: "unchanged", no swap, no log line, listeners told', async () => {
    const paths = files(GOOD);
    const { store, lines, changes, reloads } = recordedStore(paths);
    const engine = await store.load();
    const outcome = await store.reload('because');
    assert.deepEqual(outcome, { result: 'unchanged', version: engine.version });
    assert.equal(store.current(), engine);
    assert.equal(changes.length, 1);
    assert.equal(lines.length, 1);
    assert.deepEqual(reloads, [[outcome, 'because']]);
  });

  it('an edit: "loaded", swapped, logged with the previous version', async () => {
    const paths = files(GOOD);
    const { store, lines, changes, reloads } = recordedStore(paths);
    const first = await store.load();
    writeFileSync(paths.policy, `${GOOD}p, 56, chat:x, subscribe, deny\n`);
    const outcome = await store.reload('edit');
    const second = store.current();
    assert.notEqual(second.version, first.version);
    assert.deepEqual(outcome, { result: 'loaded', version: second.version });
    assert.deepEqual(changes, [first, second]);
    assert.deepEqual(reloads, [[outcome, 'edit']]);
    assert.deepEqual(lines[1], { level: 30, policy_version: second.version, previous_version: first.version, rules: 2, evaluator: 'indexed', msg: 'policy loaded' });
    assert.equal(lines.length, 2);
  });

  it('a reload as the first load (nothing live yet) loads', async () => {
    const paths = files(GOOD);
    const { store } = recordedStore(paths);
    const outcome = await store.reload('start');
    assert.deepEqual(outcome, { result: 'loaded', version: store.current().version });
  });

  it('a refused edit keeps the live policy, is logged and kept until a reload succeeds', async () => {
    const paths = files(GOOD);
    const { store, lines, changes, reloads } = recordedStore(paths);
    const good = await store.load();
    writeFileSync(paths.policy, `${GOOD}p, 56, chat:x, subscribe, alow\n`);
    const error = `${paths.policy}:2: effect must be "allow" or "deny", got "alow"`;
    const before = Date.now();
    const outcome = await store.reload('edit');
    assert.deepEqual(outcome, { result: 'failed', error, version: good.version });
    assert.equal(store.current(), good);
    assert.deepEqual(changes, [good]);
    assert.deepEqual(reloads, [[outcome, 'edit']]);
    assert.deepEqual(lines.slice(1), [{ level: 50, reason: 'edit', error, policy_version: good.version, msg: 'policy reload refused; the last good policy stays live' }]);
    const failure = store.lastFailure();
    assert.equal(failure?.error, error);
    const at = Date.parse(failure?.at ?? '');
    assert.ok(at >= before - 1000 && at <= Date.now(), `at ${failure?.at}`);
    assert.equal(failure?.at, new Date(at).toISOString());

    // Unchanged files fail again; a good edit clears the failure.
    assert.equal((await store.reload('again')).result, 'failed');
    writeFileSync(paths.policy, GOOD);
    assert.deepEqual(await store.reload('fixed'), { result: 'unchanged', version: good.version });
    assert.equal(store.lastFailure(), undefined);
  });

  it('a refused first reload has no version', async () => {
    const paths = files('p, a, chat:*, subscribe, alow\n');
    const { store, lines } = recordedStore(paths);
    const error = `${paths.policy}:1: effect must be "allow" or "deny", got "alow"`;
    assert.deepEqual(await store.reload('start'), { result: 'failed', error, version: undefined });
    assert.deepEqual(lines, [{ level: 50, reason: 'start', error, msg: 'policy reload refused; the last good policy stays live' }]);
    assert.equal(store.loaded(), false);
  });

  it('an unexpected error is reported as such, not thrown', async () => {
    const paths = files(GOOD);
    const { store } = recordedStore(paths);
    const good = await store.load();
    mock.method(IndexedEngine, 'build', () => Promise.reject(new Error('boom')));
    assert.deepEqual(await store.reload('edit'), { result: 'failed', error: 'unexpected: boom', version: good.version });
    assert.equal(store.lastFailure()?.error, 'unexpected: boom');
  });

  it('reloads never overlap: callers during one share it, and one more runs afterwards with its reason', async () => {
    const paths = files(GOOD);
    const { store, reloads } = recordedStore(paths);
    await store.load();
    const first = store.reload('one');
    const second = store.reload('two');
    const third = store.reload('three');
    assert.equal(second, first);
    assert.equal(third, first);
    const outcome = await first;
    await eventually(() => reloads.length === 2);
    await sleep(100);
    assert.deepEqual(reloads, [
      [outcome, 'one'],
      [outcome, 'one'],
    ]);
    // Once done, a reload is a new one that sees new files.
    writeFileSync(paths.policy, `${GOOD}p, 56, chat:x, subscribe, deny\n`);
    const later = store.reload('later');
    assert.notEqual(later, first);
    assert.equal((await later).result, 'loaded');
    await sleep(50);
    assert.equal(reloads.length, 3);
  });

  it('a single reload runs once', async () => {
    const { store, reloads } = recordedStore(files(GOOD));
    await store.load();
    await store.reload('one');
    await sleep(100);
    assert.equal(reloads.length, 1);
  });
});

describe('PolicyStore.watch', () => {
  /** Waits for a reload after `change`, and checks its reason. */
  async function reloadsAfter(recorded: ReturnType<typeof recordedStore>, change: () => void): Promise<void> {
    const count = recorded.reloads.length;
    change();
    await eventually(() => recorded.reloads.length > count);
    assert.equal(recorded.reloads.at(-1)?.[1], 'files changed');
  }

  it('the model, the policy file and the test file, also when replaced by a rename', async () => {
    const paths = files(GOOD);
    const recorded = recordedStore(paths);
    await recorded.store.load();
    recorded.store.watch(20);
    try {
      await reloadsAfter(recorded, () => writeFileSync(paths.model, `${MODEL}\n`));
      await reloadsAfter(recorded, () => writeFileSync(paths.policy, `${GOOD}\n`));
      await reloadsAfter(recorded, () => writeFileSync(paths.tests, `cases:\n${CASE('allow')}\n`));
      for (const round of [1, 2]) {
        await reloadsAfter(recorded, () => {
          writeFileSync(`${paths.policy}.tmp`, `${GOOD}${'\n'.repeat(round + 1)}`);
          renameSync(`${paths.policy}.tmp`, paths.policy);
        });
      }
    } finally {
      recorded.store.stop();
    }
  });

  it('a policy folder and a test folder: a new file in either is picked up', async () => {
    const paths = files(GOOD, { split: true });
    const testDir = join(paths.dir, 'tests');
    mkdirSync(testDir);
    copyFileSync(paths.tests, join(testDir, 'a.yaml'));
    const recorded = recordedStore({ ...paths, tests: testDir });
    await recorded.store.load();
    recorded.store.watch(20);
    try {
      await reloadsAfter(recorded, () => writeFileSync(join(paths.policy, '20-b.csv'), 'p, 56, chat:x, subscribe, deny\n'));
      assert.equal(recorded.reloads.at(-1)?.[0].result, 'loaded');
      await reloadsAfter(recorded, () => writeFileSync(join(testDir, 'b.yaml'), `cases:\n${CASE('allow')}`));
    } finally {
      recorded.store.stop();
    }
  });

  it('no test path, or a missing one, is not watched', async () => {
    for (const tests of ['', join(tmpdir(), 'cpp-store-missing', 'tests.yaml')]) {
      const paths = files(GOOD);
      const { store } = recordedStore({ ...paths, tests });
      await store.load();
      // Stopping what never started is harmless.
      store.stop();
      store.watch(20);
      store.stop();
    }
  });

  it('watching twice watches once; after stop, nothing; watching again works', async () => {
    const paths = files(GOOD);
    const recorded = recordedStore(paths);
    await recorded.store.load();
    recorded.store.watch(20);
    recorded.store.watch(20);
    recorded.store.stop();
    writeFileSync(paths.policy, `${GOOD}\n`);
    await sleep(300);
    assert.equal(recorded.reloads.length, 0);
    recorded.store.watch(20);
    try {
      await reloadsAfter(recorded, () => writeFileSync(paths.policy, `${GOOD}\n\n`));
    } finally {
      recorded.store.stop();
    }
  });
});
