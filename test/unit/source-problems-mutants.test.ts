/**
 * source-problems.ts (TESTING.md, "Mutation testing"): after a policy fails to load, `check`
 * and the reload error list every problem, file by file — bad lines first, then lines the
 * default model refuses — with the loader's own error first when the pass does not find it,
 * and that error alone when a file cannot be read again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { modelShape } from '../../src/policy/model-shape.js';
import { PolicySourceError } from '../../src/policy/policy-source.js';
import { allSourceProblems } from '../../src/policy/source-problems.js';
import { ROOT } from '../helpers/harness.js';

const MODEL = `${ROOT}/policies/model.conf`;
const FIRST = new PolicySourceError({ file: 'first.csv', line: 9 }, 'the loader stopped here');

/** A directory `policy/` of [name, text] files in a new temp dir; returns the temp dir. */
function policyDir(files: Array<[string, string]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-problems-'));
  mkdirSync(join(dir, 'policy'));
  for (const [name, text] of files) writeFileSync(join(dir, 'policy', name), text);
  return dir;
}

const TWO_FILES: Array<[string, string]> = [
  // Parse problems (lines 2 and 4) come before the model's refusals (lines 1 and 3) of the same file.
  ['a.csv', 'p, a, x, subscribe\nq, b\np, a, x, subscribe, alow\np, "c\ng, ok, role:m\n'],
  ['b.csv', 'p, a, x, subscribe, allow\ng, , role:m\ng2, a, b\n'],
];

describe('allSourceProblems', () => {
  it('every problem of every file, in file order, the loader\'s first one not repeated', () => {
    const dir = policyDir(TWO_FILES);
    const a = join(dir, 'policy', 'a.csv');
    const b = join(dir, 'policy', 'b.csv');
    const all = [
      `${a}:2: line must start with a policy type like "p" or "g", got "q"`,
      `${a}:4: unbalanced double quote`,
      `${a}:1: "p" takes 4 values (sub, obj, act, eft), got 3`,
      `${a}:3: effect must be "allow" or "deny", got "alow"`,
      `${b}:2: empty value (use a role such as "anonymous" instead of an empty subject)`,
      `${b}:3: policy type "g2" is not defined in the model`,
    ];
    const loaderSaw = new PolicySourceError({ file: a, line: 2 }, 'line must start with a policy type like "p" or "g", got "q"');
    assert.deepEqual(allSourceProblems(MODEL, join(dir, 'policy'), loaderSaw), all);
    // An error the pass does not find itself (the model, or a line only casbin refuses) leads.
    assert.deepEqual(allSourceProblems(MODEL, join(dir, 'policy'), FIRST), [FIRST.describe(), ...all]);
    // One file, not a directory.
    assert.deepEqual(allSourceProblems(MODEL, b, FIRST), [FIRST.describe(), ...all.slice(4)]);
  });

  it('a clean policy leaves the loader\'s error alone', () => {
    const dir = policyDir([['a.csv', 'p, a, x, subscribe, allow\ng, a, role:m\n']]);
    assert.deepEqual(allSourceProblems(MODEL, join(dir, 'policy'), FIRST), [FIRST.describe()]);
  });

  it('a model of another shape: only the lines that do not parse (casbin checks the rest)', () => {
    const dir = policyDir(TWO_FILES);
    const model = join(dir, 'model.conf');
    writeFileSync(model, readFileSync(MODEL, 'utf8').replace(/^m = .*$/m, 'm = r.sub == p.sub && r.obj == p.obj && r.act == p.act'));
    assert.equal(modelShape(readFileSync(model, 'utf8')).indexable, false);
    const a = join(dir, 'policy', 'a.csv');
    assert.deepEqual(allSourceProblems(model, join(dir, 'policy'), FIRST), [
      FIRST.describe(),
      `${a}:2: line must start with a policy type like "p" or "g", got "q"`,
      `${a}:4: unbalanced double quote`,
    ]);
  });

  it('the loader\'s error alone when the model, the policy path or a file cannot be read', () => {
    const dir = policyDir(TWO_FILES);
    const policy = join(dir, 'policy');
    assert.deepEqual(allSourceProblems(join(dir, 'missing.conf'), policy, FIRST), [FIRST.describe()]);
    assert.deepEqual(allSourceProblems(MODEL, join(dir, 'missing'), FIRST), [FIRST.describe()]);
    // c.csv is a directory: a.csv and b.csv were read, yet only the loader's error is given.
    mkdirSync(join(policy, 'c.csv'));
    assert.deepEqual(allSourceProblems(MODEL, policy, FIRST), [FIRST.describe()]);
  });
});
