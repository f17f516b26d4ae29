/**
 * The bench's cache share check (bench/lib/cache-share.ts): the counters read out of /metrics
 * text, the shares computed from two readings, the verdict against a row's bounds, and the wait
 * for a settled process. A row passes or fails on these, so each is checked by exact value.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { atLeast, atMost, cacheShares, checkShares, parseCacheCounts, settledCacheCounts, type CacheCounts } from '../../bench/lib/cache-share.js';
import { Metrics } from '../../src/telemetry/metrics.js';

const counts = (decisions: [number, number, number, number], tokens: [number, number, number, number] = [0, 0, 0, 0], inflight = 0): CacheCounts => {
  const tiers = ([memoryHit, memoryMiss, redisHit, redisMiss]: [number, number, number, number]) => ({ memoryHit, memoryMiss, redisHit, redisMiss });
  return { decisions: tiers(decisions), tokens: tiers(tokens), inflight };
};

describe('cache counters out of /metrics text', () => {
  it('reads both caches by tier and result, whatever the label order, and sums in-flight requests', () => {
    const text = [
      '# HELP cpp_cache_requests_total Decision cache lookups.',
      '# TYPE cpp_cache_requests_total counter',
      'cpp_cache_requests_total{tier="memory",result="hit"} 1000',
      'cpp_cache_requests_total{result="miss",tier="memory"} 100',
      'cpp_cache_requests_total{tier="redis",result="hit"} 20',
      'cpp_cache_requests_total{tier="redis",result="miss"} 80',
      'cpp_token_cache_requests_total{tier="memory",result="hit"} 7',
      'cpp_token_cache_requests_total{tier="memory",result="miss"} 3',
      'cpp_cache_requests_total_other{tier="memory",result="hit"} 999',
      'cpp_decisions_total{event="subscribe",decision="result",code=""} 1100',
      'cpp_inflight_requests{transport="http"} 2',
      'cpp_inflight_requests{transport="grpc"} 1',
    ].join('\n');
    assert.deepEqual(parseCacheCounts(text), counts([1000, 100, 20, 80], [7, 3, 0, 0], 3));
  });

  it('reads what the service registry really prints (series never incremented count 0)', async () => {
    const metrics = new Metrics({ processMetrics: false });
    for (let i = 0; i < 5; i++) metrics.cacheRequests.inc({ tier: 'memory', result: 'hit' });
    metrics.cacheRequests.inc({ tier: 'memory', result: 'miss' });
    metrics.cacheRequests.inc({ tier: 'redis', result: 'miss' });
    metrics.tokenCacheRequests.inc({ tier: 'memory', result: 'hit' }, 4);
    metrics.inflightNow.http = 2;
    assert.deepEqual(parseCacheCounts(await metrics.registry.metrics()), counts([5, 1, 0, 1], [4, 0, 0, 0], 2));
  });

  it('refuses a counter it cannot read', () => {
    assert.throws(() => parseCacheCounts('cpp_cache_requests_total{tier="memory",result="hit"} lots'), /unreadable counter/);
  });
});

describe('cache shares of a row (two readings)', () => {
  it('decisions from memory, from Redis and computed; tokens hit in either tier', () => {
    const before = counts([10, 5, 1, 4], [2, 2, 0, 2]);
    const after = counts([1010, 105, 21, 84], [92, 12, 5, 7]);
    const shares = cacheShares(before, after);
    assert.equal(shares.decisionLookups, 1100);
    assert.equal(shares.memory, 1000 / 1100);
    assert.equal(shares.redis, 20 / 1100);
    assert.equal(shares.miss, 80 / 1100);
    assert.equal(shares.tokenLookups, 100);
    assert.equal(shares.tokenHit, (90 + 5) / 100);
  });

  it('without Redis every memory miss is computed', () => {
    const shares = cacheShares(counts([0, 0, 0, 0]), counts([3, 1, 0, 0]));
    assert.deepEqual([shares.memory, shares.redis, shares.miss], [0.75, 0, 0.25]);
  });

  it('a counter that went down is another process, not a share', () => {
    assert.throws(() => cacheShares(counts([10, 0, 0, 0]), counts([9, 0, 0, 0])), /memoryHit went down \(10 → 9\)/);
  });
});

describe('a row against its declared share', () => {
  const cached = [atLeast('memory', 0.99)];
  it('passes within bounds and says what it measured', () => {
    const check = checkShares(cacheShares(counts([0, 0, 0, 0]), counts([995, 5, 0, 5], [10, 0, 0, 0])), cached);
    assert.deepEqual(check, { text: 'decisions 99.5% memory, 0.0% Redis, 0.5% computed; tokens 100.0% hit', headline: '99.5% memory' });
  });

  it('fails below a minimum, above a maximum, and with no lookup at all', () => {
    const shares = cacheShares(counts([0, 0, 0, 0]), counts([980, 20, 0, 20], [1, 9, 0, 9]));
    assert.equal(checkShares(shares, cached).failure, 'memory 98.0%, expected ≥ 99.0% (1000 lookups)');
    assert.equal(checkShares(shares, [atLeast('memory', 0.5), atMost('tokenHit', 0.01)]).failure, 'token hits 10.0%, expected ≤ 1.0% (10 lookups)');
    assert.equal(checkShares(shares, [{ share: 'miss', min: 0.01, max: 0.019 }]).failure, 'computed 2.0%, expected ≥ 1.0% and ≤ 1.9% (1000 lookups)');
    const none = checkShares(cacheShares(counts([5, 0, 0, 0]), counts([5, 0, 0, 0])), [atMost('memory', 0.01)]);
    assert.deepEqual(none, { text: 'no cache lookups', headline: '– memory', failure: 'memory –, expected ≤ 1.0% (0 lookups)' });
  });
});

describe('settled counters', () => {
  it('waits until nothing is in flight and the counts stop moving', async () => {
    // The process answers a queued tail: in flight, then still counting, then still.
    const pages = [
      'cpp_inflight_requests{transport="http"} 3\ncpp_cache_requests_total{tier="memory",result="hit"} 10',
      'cpp_inflight_requests{transport="http"} 0\ncpp_cache_requests_total{tier="memory",result="hit"} 12',
      'cpp_inflight_requests{transport="http"} 0\ncpp_cache_requests_total{tier="memory",result="hit"} 13',
      'cpp_inflight_requests{transport="http"} 0\ncpp_cache_requests_total{tier="memory",result="hit"} 13',
    ];
    let served = 0;
    const server = createServer((_req, res) => res.end(pages[Math.min(served++, pages.length - 1)]));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const settled = await settledCacheCounts((server.address() as AddressInfo).port);
      assert.equal(settled.decisions.memoryHit, 13);
      assert.equal(served, 4, 'read until two readings agree');
    } finally {
      server.close();
    }
  });
});
