import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileObjectPattern, PatternCache } from '../../src/policy/object-pattern.js';

// [pattern, object, user, expected]
const cases: Array<[string, string, string, boolean]> = [
  ['chat:*', 'chat:room', '56', true],
  ['chat:*', 'chat:', '56', true],
  ['chat:*', 'chat', '56', false],
  ['chat:*', 'news:chat:x', '56', false],
  ['*', '', '56', true],
  ['*', 'anything:at:all', '56', true],
  ['chat:lobby', 'chat:lobby', '56', true],
  ['chat:lobby', 'chat:lobby2', '56', false],
  ['*:admin', 'team:admin', '56', true],
  ['*:admin', 'team:admin2', '56', false], // the whole object, not a prefix of it
  ['a*b*c', 'a-x-b-y-c', '56', true],
  ['a*b*c', 'a-x-c-y-b', '56', false],
  ['personal:{user}', 'personal:56', '56', true],
  ['personal:{user}', 'personal:57', '56', false],
  ['personal:{user}', 'personal:', '', false],
  ['personal:{user}', 'personal:567', '56', false],
  ['news:*', 'news:1', '', true], // anonymous requests match patterns without {user}
  ['personal:{user}:*', 'personal:56:inbox', '56', true],
  ['personal:{user}', 'personal:a*', 'a*', true],
  ['personal:{user}', 'personal:abc', 'a*', false],
  ['personal:#{user}', 'personal:#42', '42', true],
  ['**', 'x', '56', true],
  // The empty pattern (policy lines refuse it, a custom model's matcher may still pass one): the empty object only.
  ['', '', '56', true],
  ['', 'x', '56', false],
  // Shapes matched without the general loop (object-pattern.ts shapedMatcher), at their edges.
  ['ab*ba', 'aba', '56', false], // head and tail may not share characters
  ['ab*ba', 'abba', '56', true],
  ['ab*ba', 'ab-ba', '56', true],
  ['ab*ba', 'ab-bax', '56', false],
  ['*:admin', ':admin', '56', true],
  ['*{user}*', 'x:56:y', '56', true],
  ['*{user}*', '56', '56', true],
  ['*{user}*', 'x:5:6', '56', false],
  ['*{user}*', 'anything', '', false],
  ['*{user}*', '', '', false],
];

describe('object patterns', () => {
  for (const [pattern, object, user, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} "${object}" for user "${user}"`, () => {
      assert.equal(compileObjectPattern(pattern).matches(object, user), expected);
    });
  }
  it('exposes the literal prefix for indexing', () => {
    assert.equal(compileObjectPattern('chat:room-*').literalPrefix, 'chat:room-');
    assert.equal(compileObjectPattern('{user}:x').literalPrefix, '');
  });

  it('a pattern cache compiles each source once per policy version', () => {
    const cache = new PatternCache();
    const first = cache.get('chat:*');
    assert.equal(cache.get('chat:*'), first);
    assert.notEqual(cache.get('chat:x*'), first);
    assert.equal(first.matches('chat:1', 'u'), true);
  });
});
