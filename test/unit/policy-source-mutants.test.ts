/**
 * policy-source.ts on its own (TESTING.md, "Mutation testing"): the CSV splitter, the line
 * parser and its refusals with file:line, the *.csv directory, unreadable files, the content
 * hash that is the policy version, and the sliced reader of reloads, which must give the same
 * rules and the same version as the synchronous one and yield only every 128 lines once a
 * slice is spent (the clock is a fake one, so the counts are exact).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it, mock } from 'node:test';
import {
  effectMessage,
  loadPolicySource,
  parsePolicyText,
  policyFiles,
  PolicySourceError,
  readPolicySource,
  splitCsvLine,
  TRAILING_COMMENT_MESSAGE,
  type PolicyRule,
} from '../../src/policy/policy-source.js';
import { TimeSlices } from '../../src/policy/time-slices.js';

const MODEL_TEXT = '[request_definition]\nr = sub, obj, act\n';

/** ptype, values and line of each rule (the file is always `p.csv` here). */
const shape = (rules: readonly PolicyRule[]) => rules.map((r) => [r.location.line, r.ptype, ...r.values].join('|'));

/** The refusal of a one-file text, as `check` prints it. */
function refusal(text: string): string {
  try {
    parsePolicyText(text, 'p.csv');
  } catch (err) {
    // With a message: without one, assert.ok re-reads the source to describe the failure (seconds each).
    assert.ok(err instanceof PolicySourceError, String(err));
    return err.describe();
  }
  return assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cpp-source-'));
}

/** A model file and a policy (one file, or a directory of [name, text] files). */
function writePolicy(files: Array<[string, string]>, asDirectory: boolean): { model: string; policy: string } {
  const dir = tempDir();
  const model = join(dir, 'model.conf');
  writeFileSync(model, MODEL_TEXT);
  if (!asDirectory) {
    const [name, text] = files[0] as [string, string];
    writeFileSync(join(dir, name), text);
    return { model, policy: join(dir, name) };
  }
  mkdirSync(join(dir, 'policy'));
  for (const [name, text] of files) writeFileSync(join(dir, 'policy', name), text);
  return { model, policy: join(dir, 'policy') };
}

/** The version as documented: sha256 of model, NUL, then name NUL text NUL per file; 12 hex digits. */
function expectedVersion(files: Array<[string, string]>): string {
  const hash = createHash('sha256').update(MODEL_TEXT).update('\0');
  for (const [name, text] of files) hash.update(name).update('\0').update(text).update('\0');
  return hash.digest('hex').slice(0, 12);
}

afterEach(() => mock.restoreAll());

describe('splitCsvLine', () => {
  const cases: Array<[string, string[]]> = [
    ['a,b,c', ['a', 'b', 'c']],
    [' a , b ', ['a', 'b']],
    ['a,', ['a', '']],
    ['', ['']],
    ['a,"b, c",d', ['a', 'b, c', 'd']],
    ['" spaced "', ['spaced']],
    // A doubled quote inside quotes is one quote, and the value stays quoted after it.
    ['"x""y,z",w', ['x"y,z', 'w']],
    // Outside quotes, "" opens and closes an empty quoted run.
    ['a,"",b', ['a', '', 'b']],
    ['a""b,c', ['ab', 'c']],
  ];
  for (const [line, values] of cases) {
    it(JSON.stringify(line), () => assert.deepEqual(splitCsvLine(line), values));
  }
});

describe('effectMessage and PolicySourceError', () => {
  it('names the effect, and a trailing comment when there is a #', () => {
    assert.equal(effectMessage('alow'), 'effect must be "allow" or "deny", got "alow"');
    assert.equal(effectMessage('allow # x'), `effect must be "allow" or "deny", got "allow # x": ${TRAILING_COMMENT_MESSAGE}`);
    assert.equal(TRAILING_COMMENT_MESSAGE, 'trailing comments are not allowed: put the comment on its own line');
  });

  it('describe: file:line, or the file alone', () => {
    assert.equal(new PolicySourceError({ file: 'p.csv', line: 7 }, 'bad').describe(), 'p.csv:7: bad');
    assert.equal(new PolicySourceError({ file: 'model.conf' }, 'bad').describe(), 'model.conf: bad');
  });
});

describe('parsePolicyText', () => {
  it('skips blank and comment lines, trims values, and counts lines from 1 across LF and CRLF', () => {
    const text = '# head\n\n   \n  # indented comment\np, a, x:*, subscribe, allow\r\n g ,  alice ,role:m \n\tp2,b\n';
    assert.deepEqual(shape(parsePolicyText(text, 'p.csv')), ['5|p|a|x:*|subscribe|allow', '6|g|alice|role:m', '7|p2|b']);
    const [rule] = parsePolicyText('p, a, b, c, d', 'dir/p.csv');
    assert.deepEqual(rule?.location, { file: 'dir/p.csv', line: 1 });
  });

  it('quoted values keep their commas and a " #"; a # without space before it is a value', () => {
    assert.deepEqual(shape(parsePolicyText('p, "a, b", "x #y", subscribe, allow\np, a#1, x, subscribe, allow', 'p.csv')), [
      '1|p|a, b|x #y|subscribe|allow',
      '2|p|a#1|x|subscribe|allow',
    ]);
  });

  it('policy types: p and g with any digits after them, nothing else', () => {
    assert.deepEqual(shape(parsePolicyText('p, a\ng, a\np2, a\ng10, a\n', 'p.csv')), ['1|p|a', '2|g|a', '3|p2|a', '4|g10|a']);
    for (const ptype of ['x', 'xp', 'px', 'p2x', 'P', 'r', '2']) {
      assert.equal(refusal(`p, a\n${ptype}, a`), `p.csv:2: line must start with a policy type like "p" or "g", got "${ptype}"`);
    }
    assert.equal(refusal(', a, b'), 'p.csv:1: line must start with a policy type like "p" or "g", got ""');
  });

  it('refuses a trailing comment in any value, not only the last', () => {
    const message = `${TRAILING_COMMENT_MESSAGE} (a line is a comment only when it starts with #)`;
    assert.equal(refusal('p, a, x, subscribe, allow # note'), `p.csv:1: ${message}`);
    assert.equal(refusal('p, a, x\tx, subscribe #, allow'), `p.csv:1: ${message}`);
    assert.equal(refusal('\n\np, a #b, x, subscribe, allow'), `p.csv:3: ${message}`);
  });

  it('refuses an odd number of double quotes, accepts an even one', () => {
    assert.equal(refusal('p, "a, x, subscribe, allow'), 'p.csv:1: unbalanced double quote');
    assert.equal(refusal('p, "a"", x, subscribe, allow'), 'p.csv:1: unbalanced double quote');
    assert.deepEqual(shape(parsePolicyText('p, "a""b", x', 'p.csv')), ['1|p|a"b|x']);
  });

  it('throws at the first bad line, or hands every bad line to onProblem and keeps the rest', () => {
    const text = 'p, a\nx, b\np, "c\ng, d\n';
    assert.equal(refusal(text), 'p.csv:2: line must start with a policy type like "p" or "g", got "x"');
    const problems: string[] = [];
    const rules = parsePolicyText(text, 'p.csv', (problem) => problems.push(problem.describe()));
    assert.deepEqual(shape(rules), ['1|p|a', '4|g|d']);
    assert.deepEqual(problems, [
      'p.csv:2: line must start with a policy type like "p" or "g", got "x"',
      'p.csv:3: unbalanced double quote',
    ]);
  });
});

describe('policy files', () => {
  it('a file is itself; a directory gives its *.csv files in name order', () => {
    const dir = tempDir();
    // Created out of order, with names that only end differently.
    for (const name of ['20-b.csv', 'notes.txt', '10-a.csv', 'csv.old', '30-c.csv.bak', '05-z.csv', '15.csv']) {
      writeFileSync(join(dir, name), 'p, a\n');
    }
    assert.deepEqual(policyFiles(dir), ['05-z.csv', '10-a.csv', '15.csv', '20-b.csv'].map((name) => join(dir, name)));
    const file = join(dir, '10-a.csv');
    assert.deepEqual(policyFiles(file), [file]);
  });

  it('name order is JavaScript string order, not the byte order the directory listing has', () => {
    // UTF-8 puts U+FF21 (EF BC A1) before U+1F600 (F0 9F 98 80); UTF-16 the other way round (FF21 > D83D).
    const dir = tempDir();
    for (const name of ['\uFF21.csv', '\u{1F600}.csv']) writeFileSync(join(dir, name), 'p, a\n');
    assert.deepEqual(policyFiles(dir), ['\u{1F600}.csv', '\uFF21.csv'].map((name) => join(dir, name)));
  });

  it('refuses a missing path and a directory without *.csv files', () => {
    const dir = tempDir();
    assert.throws(() => policyFiles(dir), (err: PolicySourceError) => err.describe() === `${dir}: directory holds no *.csv policy file`);
    writeFileSync(join(dir, 'policy.txt'), 'p, a\n');
    assert.throws(() => policyFiles(join(dir, 'nope')), (err: PolicySourceError) => err.describe() === `${join(dir, 'nope')}: cannot read: ENOENT`);
    assert.throws(() => policyFiles(dir), (err: PolicySourceError) => err.describe() === `${dir}: directory holds no *.csv policy file`);
  });
});

/** Both readers on the same files: [what read gave, what load gave] (or their refusals). */
async function bothReaders(model: string, policy: string) {
  const outcome = async (read: () => unknown) => {
    try {
      return await read();
    } catch (err) {
      assert.ok(err instanceof PolicySourceError, String(err));
      return err.describe();
    }
  };
  return [await outcome(() => readPolicySource(model, policy)), await outcome(() => loadPolicySource(model, policy))];
}

describe('readPolicySource and loadPolicySource', () => {
  it('read a directory in name order: rules with file and line, the files, the version', async () => {
    const files: Array<[string, string]> = [
      ['10-a.csv', '# a\np, a, x, subscribe, allow\n'],
      ['20-b.csv', 'g, bob, role:m'],
    ];
    const { model, policy } = writePolicy([...files].reverse(), true);
    const expected = {
      modelText: MODEL_TEXT,
      modelFile: model,
      rules: [
        { ptype: 'p', values: ['a', 'x', 'subscribe', 'allow'], location: { file: join(policy, '10-a.csv'), line: 2 } },
        { ptype: 'g', values: ['bob', 'role:m'], location: { file: join(policy, '20-b.csv'), line: 1 } },
      ],
      files: [model, join(policy, '10-a.csv'), join(policy, '20-b.csv')],
      version: expectedVersion(files),
    };
    assert.deepEqual(await bothReaders(model, policy), [expected, expected]);
  });

  it('the version changes with the model, a file name, a file text, and which file holds a text', async () => {
    const versions = new Set<string>();
    const variants: Array<Array<[string, string]>> = [
      [['a.csv', 'p, a\n']],
      [['b.csv', 'p, a\n']],
      [['a.csv', 'p, b\n']],
      [['a.csv', 'p, a\n'], ['b.csv', '']],
      [['a.csv', ''], ['b.csv', 'p, a\n']],
    ];
    for (const files of variants) {
      const { model, policy } = writePolicy(files, true);
      const [read, load] = (await bothReaders(model, policy)) as Array<{ version: string }>;
      assert.equal(read?.version, expectedVersion(files));
      assert.equal(load?.version, read?.version);
      versions.add(read?.version as string);
      writeFileSync(model, `${MODEL_TEXT}# changed\n`);
      const [changed] = (await bothReaders(model, policy)) as Array<{ version: string }>;
      assert.notEqual(changed?.version, read?.version);
    }
    assert.equal(versions.size, variants.length);
  });

  it('give the same rules for LF, CRLF, lone CRs, blank lines and no final newline', async () => {
    const texts = [
      '',
      '\n',
      '\r\n',
      'p, a, x, subscribe, allow',
      'p, a, x, subscribe, allow\n',
      'p, a, x, subscribe, allow\r\np, b, y, publish, deny\r\n',
      'p, a, x, subscribe, allow\n\rp, b, y, publish, deny\r',
      '\n\np, a, x, subscribe, allow\n\n\ng, c, d\n\n',
      'g,c,d\ng,e,f',
    ];
    for (const text of texts) {
      const { model, policy } = writePolicy([['p.csv', text]], false);
      const [read, load] = await bothReaders(model, policy);
      assert.deepEqual(load, read, JSON.stringify(text));
      assert.equal((read as { version: string }).version, expectedVersion([['p.csv', text]]));
      assert.deepEqual(
        (read as { rules: PolicyRule[] }).rules.map((r) => [r.location.line, ...r.values]),
        parsePolicyText(text, policy).map((r) => [r.location.line, ...r.values]),
      );
    }
  });

  it('refuse what cannot be read, and bad lines with file:line', async () => {
    const { model, policy } = writePolicy([['p.csv', 'p, a\n\nq, b\n']], false);
    assert.deepEqual(await bothReaders(model, policy), Array(2).fill(`${policy}:3: line must start with a policy type like "p" or "g", got "q"`));
    const missing = join(tempDir(), 'model.conf');
    assert.deepEqual(await bothReaders(missing, policy), Array(2).fill(`${missing}: cannot read: ENOENT`));
    assert.deepEqual(await bothReaders(model, `${policy}.gone`), Array(2).fill(`${policy}.gone: cannot read: ENOENT`));
    // A directory named like a policy file cannot be read as one.
    const dir = writePolicy([['a.csv', 'p, a\n']], true).policy;
    mkdirSync(join(dir, 'b.csv'));
    assert.deepEqual(await bothReaders(model, dir), Array(2).fill(`${join(dir, 'b.csv')}: cannot read: EISDIR`));
  });
});

describe('loadPolicySource yields every 128 lines once a slice is spent', () => {
  /** A clock that moves `step` ms on at every reading; counts the slices' looks and yields. */
  function fakeClock(step: number): { spent: () => number; yields: () => number } {
    let now = 1000;
    mock.method(performance, 'now', () => (now += step));
    const spent = mock.method(TimeSlices.prototype, 'spent');
    const next = mock.method(TimeSlices.prototype, 'next');
    return { spent: () => spent.mock.callCount(), yields: () => next.mock.callCount() };
  }

  const lines = (count: number) => Array.from({ length: count }, (_, i) => `p, u${i}, c${i}:*, subscribe, allow\n`).join('');
  // [what, files' line counts, ms per reading, clock looks, yields]
  const cases: Array<[string, number[], number, number, number]> = [
    // 1000 lines and the empty one after the last newline: line indexes 0…1000, looks at 127, 255, … 895.
    ['1000 lines, 3 ms per reading: every look yields', [1000], 3, 7, 7],
    ['1000 lines, a stopped clock: looks, no yield', [1000], 0, 7, 0],
    ['127 lines: the look at index 127 is the empty last line', [127], 3, 1, 1],
    ['126 lines: no look', [126], 3, 0, 0],
    // Each file starts a new count and a new slice.
    ['two files of 300 lines', [300, 300], 3, 4, 4],
  ];
  for (const [what, counts, step, looks, yields] of cases) {
    it(what, async () => {
      const files = counts.map((count, i): [string, string] => [`${i}.csv`, lines(count)]);
      const { model, policy } = writePolicy(files, true);
      const clock = fakeClock(step);
      const loaded = await loadPolicySource(model, policy);
      assert.deepEqual([clock.spent(), clock.yields()], [looks, yields]);
      mock.restoreAll();
      // Hashed a slice at a time, the version is still that of the whole text.
      assert.equal(loaded.version, expectedVersion(files));
      assert.equal(loaded.rules.length, counts.reduce((a, b) => a + b, 0));
      assert.deepEqual(loaded.rules.at(-1)?.location.line, counts.at(-1));
    });
  }
});
