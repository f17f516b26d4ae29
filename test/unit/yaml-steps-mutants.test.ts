/**
 * yamlSteps beyond its values (StrykerJS survivors, TESTING.md "Fifth pass"): the values equal
 * parseYaml's either way (policy-reload-slices.test.ts), so what tells the stepped path from the
 * fallback is the work done at once and the warnings. A clean document is lexed once, in the
 * steps, never parsed again in one go; a document with warnings goes to parseYaml, which warns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lexer, stringify as stringifyYaml } from 'yaml';
import { runAtOnce } from '../../src/policy/time-slices.js';
import { yamlSteps } from '../../src/policy/yaml-steps.js';

/** Counts the lexer runs over the whole text: the steps' own, plus one per parseYaml. */
let lexes = 0;
const lex = Object.getOwnPropertyDescriptor(Lexer.prototype, 'lex')!.value as Lexer['lex'];
before(() => {
  Lexer.prototype.lex = function* (this: Lexer, ...args: Parameters<Lexer['lex']>) {
    lexes++;
    yield* lex.apply(this, args);
  };
});
after(() => {
  Lexer.prototype.lex = lex;
});

/** The value, the lexer runs it took and the process warnings it emitted. */
async function parsed(text: string): Promise<{ value: unknown; lexes: number; warnings: string[] }> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => void warnings.push(warning.message);
  process.on('warning', onWarning);
  lexes = 0;
  const value = runAtOnce(yamlSteps(text));
  const counted = lexes;
  // process.emitWarning reports on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  return { value, lexes: counted, warnings };
}

describe('yamlSteps: a clean document is lexed once, in the steps', () => {
  const block = stringifyYaml({ cases: [{ note: 'n', user: 'u', action: 'subscribe', object: 'chat:a', expect: 'allow' }] });
  // [what, text, value]
  const texts: Array<[string, string, unknown]> = [
    ['block style', block, { cases: [{ note: 'n', user: 'u', action: 'subscribe', object: 'chat:a', expect: 'allow' }] }],
    ['flow style', '{cases: [{note: n}]}', { cases: [{ note: 'n' }] }],
    ['an empty file (one empty document, not none)', '', null],
    ['only a comment', '# nothing yet\n', null],
  ];
  for (const [what, text, value] of texts) {
    it(what, async () => {
      assert.deepEqual(await parsed(text), { value, lexes: 1, warnings: [] });
    });
  }
});

describe('yamlSteps: anything but one clean document is parseYaml\'s, parsed again at once', () => {
  it('a warning (an unresolved tag): parseYaml\'s value and its warning', async () => {
    const result = await parsed('cases: !custom []\n');
    assert.deepEqual(result.value, { cases: [] });
    assert.equal(result.lexes, 2);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0] ?? '', /^Unresolved tag: !custom/);
  });

  it('an error: parseYaml\'s exception', async () => {
    lexes = 0;
    assert.throws(() => runAtOnce(yamlSteps('cases: []\ncases: []\n')), /^YAMLParseError: Map keys must be unique at line 2, column 1:/);
    assert.equal(lexes, 2);
  });

  it('two documents: parseYaml\'s exception', () => {
    lexes = 0;
    assert.throws(() => runAtOnce(yamlSteps('cases: []\n---\ncases: []\n')), { name: 'YAMLParseError' });
    assert.equal(lexes, 2);
  });
});
