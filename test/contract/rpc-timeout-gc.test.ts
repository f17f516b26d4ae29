/**
 * Route timeouts must fire whatever the garbage collector does. The probe runs in a child with
 * --expose-gc (the test runner's processes have no global.gc) and reports what it saw.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/harness.js';

const run = promisify(execFile);

describe('rpc route timeout after garbage collection', () => {
  it('a hanging upstream still gets its 504 near the route timeout, and the concurrency slot is freed', async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'test/helpers/gc-timeout-probe.ts')], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    const seen = JSON.stringify(report);
    const timeout = '{"error":{"code":504,"message":"upstream timeout","temporary":true}}';
    assert.equal(report.http.answer, timeout, `HTTP: the timeout answer, not a lost call (${seen})`);
    assert.equal(report.grpc.answer, 'error 504', `GRPC: the timeout answer, not a lost call (${seen})`);
    for (const [transport, one] of Object.entries({ http: report.http, grpc: report.grpc }) as Array<[string, { ms: number; next: string }]>) {
      // A behaviour check with a wide margin (busy CI machines), not a latency assertion.
      assert.ok(one.ms < report.timeoutMs + 8000, `${transport}: answered after ${one.ms} ms for a ${report.timeoutMs} ms timeout (${seen})`);
      assert.ok(!one.next.includes('429') && !one.next.includes('no answer'), `${transport}: the next call got a slot (${seen})`);
    }
  });
});
