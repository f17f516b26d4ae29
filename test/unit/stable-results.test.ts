/** StableEncodings: one encoding per stable object and binary flag; any other object is encoded every time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markStable, StableEncodings } from '../../src/core/stable-results.js';

describe('stable results', () => {
  it('a marked result is frozen and encoded once per binary flag', () => {
    const encodings = new StableEncodings<string>();
    const result = markStable({ user: '56' });
    assert.ok(Object.isFrozen(result));
    let calls = 0;
    const encode = (tag: string) => () => `${tag}${++calls}`;
    assert.equal(encodings.get(result, false, encode('json')), 'json1');
    assert.equal(encodings.get(result, false, encode('json')), 'json1');
    assert.equal(encodings.get(result, true, encode('bin')), 'bin2');
    assert.equal(encodings.get(result, true, encode('bin')), 'bin2');
    assert.equal(calls, 2);
  });

  it('an unmarked result is encoded on every call (it may change between requests)', () => {
    const encodings = new StableEncodings<string>();
    const result = { user: '56' };
    let calls = 0;
    for (let i = 0; i < 3; i++) encodings.get(result, false, () => String(++calls));
    assert.equal(calls, 3);
    assert.ok(!Object.isFrozen(result));
  });
});
