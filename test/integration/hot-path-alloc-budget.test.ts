/**
 * The allocation guard of the hot path (issue 18): bench/hot-path-alloc.ts counts the heap bytes
 * each hot function and each cached request allocates and fails when one is over its budget.
 * Allocation counts do not depend on the machine's load the way time does, so this runs in
 * `npm test`. The JIT optimizes on the main thread (--no-concurrent-recompilation), so when a
 * window starts does not depend on how busy the machine is: runs agree to the byte, loaded or
 * not. A run over budget is still repeated once before it counts as a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const FLAGS = ['--expose-gc', '--no-concurrent-recompilation', '--max-semi-space-size=256', '--min-semi-space-size=256', '--import', 'tsx', 'bench/hot-path-alloc.ts'];

function runGuard(env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, FLAGS, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: run.status, out: `${run.stdout}\n${run.stderr}` };
}

describe('hot-path allocation budgets', () => {
  it('every hot function and cached request stays within its budget', () => {
    let run = runGuard();
    if (run.code === 1) run = runGuard();
    assert.equal(run.code, 0, run.out);
    for (const probe of ['HTTP subscribe, cached decision', 'GRPC subscribe, cached decision', 'cacheKey', 'PolicyDecider.decideNow', 'IndexedEngine.decide']) {
      assert.match(run.out, new RegExp(`\\| ${probe.replace(/[.()]/g, '\\$&')}[^|]*\\| \\d+ \\| \\d+ \\|`), `${probe} measured`);
    }
  });

  it('trips when a probe allocates more than its budget', () => {
    const run = runGuard({ ALLOC_ONLY: 'cacheKey', ALLOC_BUDGET_SCALE: '0' });
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /Over the allocation budget[\s\S]*cacheKey \(subscribe query\): \d+ B per call, budget 0 B/);
  });
});
