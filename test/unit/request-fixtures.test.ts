/**
 * The recorded Centrifugo request bodies stay byte-exact: the contract tests trust them as the
 * wire format, so a reformatted file (pretty-printed, a final newline, unescaped `<`) would make
 * them test something Centrifugo never sends.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FIXTURES } from '../helpers/harness.js';

/** What Go's encoding/json writes for a value: compact, with its HTML-safe string escapes. */
const goJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

describe('recorded Centrifugo request bodies', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

  it('are all there', () => {
    // One per row of the README's table; a missing file would otherwise only show up as a
    // crash in whichever test reads it.
    assert.equal(files.length, 18, files.join(', '));
  });

  for (const file of files) {
    it(`${file} is one compact object as Go serialises it`, () => {
      const text = readFileSync(`${FIXTURES}/${file}`, 'utf8');
      const value: unknown = JSON.parse(text);
      assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value));
      assert.equal(text, goJson(value));
    });
  }
});
