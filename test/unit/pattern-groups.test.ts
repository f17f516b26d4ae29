/**
 * pattern-groups.ts against a plain scan: whatever form a subject's patterns take (one group, a
 * short list, an index past SMALL_GROUPS_LIMIT), the groups that match an object must be exactly
 * those whose pattern matches it when every pattern is tried in turn, and each group must list
 * every line that named its pattern. The oracle is ObjectPattern.matches alone, not the index.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatternCache } from '../../src/policy/object-pattern.js';
import { addToGroups, matchingGroups, sealGroups, someGroupMatches, SMALL_GROUPS_LIMIT, type PatternGroups } from '../../src/policy/pattern-groups.js';

/** Exact objects, literal prefixes of several lengths (one as long as an asked object), wildcards first, {user}. */
const SOURCES = ['chat:lobby', 'ab*', 'abc*', 'chat:*', 'chat:room*', '*:end', '*', 'news', 'x*y', 'user:{user}', 'ab', 'pre:*:post', '*{user}*'];
const OBJECTS = ['chat:lobby', 'chat:', 'chat:room1', 'chat:roo', 'ab', 'abc', 'abcd', 'a', '', 'q:end', 'news', 'newsx', 'xzy', 'user:alice', 'user:bob', 'pre:1:post', 'nothing', 'ch'];

function build(sources: readonly string[]): { groups: PatternGroups; lines: Map<string, number[]> } {
  const cache = new PatternCache();
  let groups: PatternGroups | undefined;
  const lines = new Map<string, number[]>();
  sources.forEach((source, index) => {
    groups = addToGroups(groups, cache.get(source), index);
    lines.set(source, [...(lines.get(source) ?? []), index]);
  });
  sealGroups(groups as PatternGroups);
  return { groups: groups as PatternGroups, lines };
}

/** Every subset size from one pattern to all of them, each line repeated once after the first pass. */
const shapes = Array.from({ length: SOURCES.length }, (_, i) => SOURCES.slice(0, i + 1));

describe('pattern groups against a plain scan of the patterns', () => {
  for (const sources of shapes) {
    const form = sources.length === 1 ? 'one group' : sources.length <= SMALL_GROUPS_LIMIT ? 'a list' : 'an index';
    it(`${sources.length} patterns (${form}), each on two lines: the same matches, with every line`, () => {
      const cache = new PatternCache();
      const { groups, lines } = build([...sources, ...sources]);
      for (const user of ['alice', '']) {
        for (const object of OBJECTS) {
          const expected = sources.filter((s) => cache.get(s).matches(object, user)).sort();
          const found: { pattern: { source: string }; lines(): number[] }[] = [];
          matchingGroups(groups, object, user, found as never);
          const where = `${object} for "${user}"`;
          assert.deepEqual(found.map((g) => g.pattern.source).sort(), expected, where);
          for (const group of found) assert.deepEqual(group.lines(), lines.get(group.pattern.source), `${where}: lines of ${group.pattern.source}`);
          assert.equal(someGroupMatches(groups, object, user), expected.length > 0, where);
        }
      }
    });
  }
});
