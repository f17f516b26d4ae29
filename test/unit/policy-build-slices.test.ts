/**
 * How a policy build shares the event loop (indexed-engine.ts, BUILD_SLICE_MS): it checks the
 * clock every 64 rules and every 256 sealed subjects, and hands the event loop over once more
 * than 2 ms of build work have passed — never sooner, so a build that is quick pays nothing for
 * slicing, and a slow one never holds requests up for long. The clock is a fake one, so the
 * number of turns is exact whatever the machine's load (the real-clock test is in
 * policy-boundaries.test.ts).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import type { PolicyRule, PolicySource } from '../../src/policy/policy-source.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';
import { turnsDuring } from '../helpers/event-loop-turns.js';

function source(rules: PolicyRule[]): PolicySource {
  return { modelText: DEFAULT_MODEL, modelFile: 'model.conf', rules, files: ['slices.csv'], version: 'slices' };
}

const rule = (line: number, values: string[]): PolicyRule => ({ ptype: 'p', values, location: { file: 'slices.csv', line } });

/** `count` subscribe rules for one subject (no sealing work worth a check). */
const oneSubject = (count: number) => source(Array.from({ length: count }, (_, i) => rule(i + 1, ['u', `c${i}:*`, 'subscribe', 'allow'])));
/** One rule for each of `count` subjects: as many subjects to seal as rules. */
const manySubjects = (count: number) => source(Array.from({ length: count }, (_, i) => rule(i + 1, [`u${i}`, `c${i}:*`, 'subscribe', 'allow'])));

/** A clock that reads `start` ms, then moves `step` ms on by every later reading. */
function fakeClock(start: number, step: number): void {
  let now = start - step;
  mock.method(performance, 'now', () => (now += step));
}

afterEach(() => mock.restoreAll());

describe('a policy build yields to the event loop after 2 ms of work, never sooner', () => {
  // [what, clock start, ms per clock reading, policy, event-loop turns]
  const cases: Array<[string, number, number, PolicySource, number]> = [
    // A build that takes no time at all never yields, whatever the clock reads.
    ['a stopped clock: no turns', 1000, 0, oneSubject(64 * 30), 0],
    ['a stopped clock, many subjects to seal: no turns', 1000, 0, manySubjects(256 * 6), 0],
    // 1 ms more at each check (every 64 rules): 1, 2, then 3 ms > 2 ms yields; the restart reads the clock once more.
    ['1 ms per reading, 30 checks: every third check yields', 1000, 1, oneSubject(64 * 30), 10],
    ['1 ms per reading, fewer than 64 rules: no check, no turn', 1000, 1, oneSubject(63), 0],
    // 2 ms per reading: the first check sees exactly 2 ms (not more), the second 4 ms.
    ['2 ms per reading: every second check yields', 1000, 2, oneSubject(64 * 30), 15],
    // 3 ms per reading: every check is past the slice.
    ['3 ms per reading: every check yields', 1000, 3, oneSubject(64 * 30), 30],
    // 24 checks in the rule loop (8 yields), then sealing checks at 256, 512, … 1536 subjects.
    ['1 ms per reading, 1536 subjects: the sealing loop yields too', 1000, 1, manySubjects(256 * 6), 10],
  ];
  for (const [what, start, step, policy, expected] of cases) {
    it(what, async () => {
      fakeClock(start, step);
      const [turns, engine] = await turnsDuring(() => IndexedEngine.build(policy));
      mock.restoreAll();
      assert.equal(turns, expected);
      // Slicing changes when the work is done, never the answers.
      const last = policy.rules.at(-1) as PolicyRule;
      const [user, pattern] = last.values as [string, string];
      assert.equal(engine.decide({ user, roles: [], action: 'subscribe', object: pattern.replace('*', 'x') }), true);
      assert.equal(engine.decide({ user, roles: [], action: 'subscribe', object: 'elsewhere' }), false);
    });
  }
});
