/**
 * The ring of live/candidate disagreements the policy page shows: each entry's fields, newest
 * first, the bound and the count of all ever recorded. Written for mutation testing (TESTING.md,
 * "policy-store, replica-sync, disagreements"); policy-page-api.test.ts shows it over HTTP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisagreementRing } from '../../src/policy/disagreements.js';

const versions = { live: 'live-v', candidate: 'cand-v' };
const at = (second: number) => new Date(Date.UTC(2026, 11, 1, 7, 0, second));

/** Records users u1..un, one second apart, alternating which side allows. */
function ring(capacity: number, count: number): DisagreementRing {
  const disagreements = new DisagreementRing(capacity);
  for (let i = 1; i <= count; i++) disagreements.record({ user: `u${i}`, roles: [], action: 'subscribe', object: 'chat:x' }, i % 2 === 1, i % 2 === 0, versions, at(i));
  return disagreements;
}

const users = (disagreements: DisagreementRing) => disagreements.latest().map((d) => d.user);

describe('DisagreementRing', () => {
  it('an entry holds the question, both answers, both versions and the time', () => {
    const disagreements = new DisagreementRing(4);
    const roles = ['role:a', 'role:b'];
    disagreements.record({ user: '56', roles, action: 'publish', object: 'chat:lobby' }, true, false, versions, at(5));
    disagreements.record({ user: '', roles: [], action: 'connect', object: '' }, false, true, { live: 'l2', candidate: 'c2' }, at(6));
    roles.push('role:later');
    assert.deepEqual(disagreements.latest(), [
      { at: '2026-12-01T07:00:06.000Z', user: '', roles: [], action: 'connect', object: '', live: 'deny', candidate: 'allow', policy_version: 'l2', candidate_version: 'c2' },
      { at: '2026-12-01T07:00:05.000Z', user: '56', roles: ['role:a', 'role:b'], action: 'publish', object: 'chat:lobby', live: 'allow', candidate: 'deny', policy_version: 'live-v', candidate_version: 'cand-v' },
    ]);
    assert.equal(disagreements.total(), 2);
  });

  it('latest is newest first, bounded by the capacity; total counts every one', () => {
    // [capacity, recorded, users newest first]
    const cases: Array<[number, number, string[]]> = [
      [3, 0, []],
      [3, 1, ['u1']],
      [3, 3, ['u3', 'u2', 'u1']],
      [3, 4, ['u4', 'u3', 'u2']],
      [3, 5, ['u5', 'u4', 'u3']],
      [3, 7, ['u7', 'u6', 'u5']],
      [1, 3, ['u3']],
    ];
    for (const [capacity, count, expected] of cases) {
      const disagreements = ring(capacity, count);
      assert.deepEqual(users(disagreements), expected, `capacity ${capacity}, ${count} recorded`);
      assert.equal(disagreements.total(), count);
      assert.equal(disagreements.capacity, capacity);
    }
  });

  it('latest is a copy: changing it changes nothing held', () => {
    const disagreements = ring(3, 2);
    disagreements.latest().splice(0);
    assert.deepEqual(users(disagreements), ['u2', 'u1']);
  });
});
