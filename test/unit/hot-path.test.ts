/** The hot path's own bookkeeping: decision deadlines and the per-decision metric cells. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { DeadlineQueue } from '../../src/core/deadlines.js';
import { FastCounter, FastHistogram } from '../../src/telemetry/hot-metrics.js';

describe('DeadlineQueue', () => {
  it('fires an unfinished deadline once and never early; a finished one never fires', async () => {
    const queue = new DeadlineQueue(10);
    const fired: string[] = [];
    const started = performance.now();
    const firedAt: number[] = [];
    queue.add(50, () => (fired.push('slow'), firedAt.push(performance.now() - started)));
    const fast = queue.add(50, () => fired.push('fast'));
    fast.done();
    queue.add(50, () => fired.push('third'));
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(fired, ['slow', 'third']);
    // Never early. How late depends on the machine's load (a busy CI core stalls timers), so it
    // is not asserted: the order above already shows the sweep ran before the 120 ms timer.
    assert.ok((firedAt[0] as number) >= 50, `fired after ${firedAt[0]} ms`);
  });

  it('stops sweeping when nothing is pending (no timer keeps the process busy)', async () => {
    const queue = new DeadlineQueue(5);
    queue.add(1, () => undefined).done();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((queue as unknown as { timer?: unknown }).timer, undefined);
  });
});

describe('FastHistogram and FastCounter', () => {
  it('expose the Prometheus text format prom-client would', async () => {
    const registry = new Registry();
    const histogram = new FastHistogram('t_seconds', 'Test durations.', ['event'], [0.01, 0.1], registry);
    const counter = new FastCounter('t_total', 'Test answers.', ['event', 'code'], registry);
    const cell = histogram.cell({ event: 'subscribe' });
    for (const v of [0.005, 0.05, 0.5]) cell.observe(v);
    counter.cell({ event: 'subscribe', code: '403' }).inc();
    counter.cell({ code: '403', event: 'subscribe' }).inc(2);
    assert.equal(
      await registry.metrics(),
      [
        '# HELP t_seconds Test durations.',
        '# TYPE t_seconds histogram',
        't_seconds_bucket{event="subscribe",le="0.01"} 1',
        't_seconds_bucket{event="subscribe",le="0.1"} 2',
        't_seconds_bucket{event="subscribe",le="+Inf"} 3',
        't_seconds_sum{event="subscribe"} 0.555',
        't_seconds_count{event="subscribe"} 3',
        '',
        '# HELP t_total Test answers.',
        '# TYPE t_total counter',
        't_total{event="subscribe",code="403"} 3',
        '',
      ].join('\n'),
    );
  });
});
