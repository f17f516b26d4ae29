/**
 * The policy file broken while the service serves with policy.watch: truncated to nothing, cut
 * mid-line, overwritten with garbage, deleted. Each bad edit is refused (the policy tests and
 * the parser catch it) and the last good policy keeps deciding: 0 failed, 0 wrong answers.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { ROOT, startHarness, type Harness } from '../helpers/harness.js';
import { loadClient, mixed, runLoad, warmUp, type LoadClient } from '../helpers/load.js';
import { trafficCase, trafficConfigYaml } from '../helpers/traffic.js';

async function reloads(h: Harness, result: string): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^cpp_policy_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting: ${what}`);
}

describe('fault: the policy file broken while serving (policy.watch)', () => {
  let dir: string;
  let upstream: EchoUpstream;
  let h: Harness;
  let client: LoadClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpp-fault-policy-'));
    copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
    copyFileSync(join(ROOT, 'policies/policy.csv'), join(dir, 'policy.csv'));
    cpSync(join(ROOT, 'policies/tests'), join(dir, 'tests'), { recursive: true });
    upstream = await startEchoUpstream();
    h = await startHarness(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${dir}/model.conf, policy: ${dir}/policy.csv, tests: ${dir}/tests, watch: true, debounce: 50ms }
log: { level: silent }
${trafficConfigYaml(upstream.url)}`);
    client = loadClient(Number(new URL(h.httpUrl).port), h.grpcPort);
    await warmUp(client, (i) => trafficCase(10_000 + i));
  });
  after(async () => {
    client?.close();
    await h?.stop();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const policyFile = () => join(dir, 'policy.csv');
  const good = () => readFileSync(join(ROOT, 'policies/policy.csv'));
  const edits: Array<{ note: string; apply: () => void }> = [
    { note: 'truncated to nothing', apply: () => writeFileSync(policyFile(), '') },
    { note: 'cut mid-line', apply: () => writeFileSync(policyFile(), good().subarray(0, Math.floor(good().length * 0.6))) },
    { note: 'garbage bytes', apply: () => writeFileSync(policyFile(), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))) },
    { note: 'deleted', apply: () => unlinkSync(policyFile()) },
  ];

  for (const edit of edits) {
    it(`${edit.note}: the last good policy keeps deciding, 0 failed, 0 wrong`, async () => {
      const version = h.app.policy.current().version;
      const failedBefore = await reloads(h, 'failed');
      const report = await runLoad(`policy file ${edit.note}`, {
        total: 800,
        concurrency: 16,
        request: mixed(client, (i) => trafficCase(i)),
        at: async (i) => {
          if (i !== 200) return;
          edit.apply();
          // The bad edit is seen and refused while the load goes on.
          await until(async () => (await reloads(h, 'failed')) > failedBefore, 'the bad edit was refused');
        },
      });
      assert.deepEqual({ failed: report.failed, wrong: report.wrong }, { failed: 0, wrong: 0 }, report.examples.join('\n'));
      assert.equal(h.app.policy.current().version, version, 'the policy version did not change');
      // Put the good file back for the next case; the same content is the same version.
      writeFileSync(policyFile(), good());
      await sleep(150);
      assert.equal(h.app.policy.current().version, version);
    });
  }
});
