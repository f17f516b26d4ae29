import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Breaker } from '../../src/cache/breaker.js';

describe('breaker', () => {
  it('an abandoned call counts for nothing and gives back the half-open probe', () => {
    let clock = 0;
    const breaker = new Breaker({ failures: 2, cooldownMs: 100, now: () => clock });
    breaker.failed();
    breaker.abandoned();
    breaker.abandoned();
    assert.equal(breaker.state, 'closed', 'abandoned calls are not failures');
    breaker.failed();
    assert.equal(breaker.state, 'open');
    clock = 100;
    assert.equal(breaker.allows(), true, 'the probe');
    assert.equal(breaker.allows(), false, 'one probe at a time');
    breaker.abandoned();
    assert.equal(breaker.state, 'half_open', 'no verdict: still half-open');
    assert.equal(breaker.allows(), true, 'the next call may probe');
    breaker.succeeded();
    assert.equal(breaker.state, 'closed');
  });
});
