/**
 * SIGTERM to the real process (`serve`) in the middle of mixed load over both transports: every
 * request sent before the signal gets its exact answer (0 failed, 0 wrong) and the process
 * exits 0. test/integration/shutdown.test.ts covers what happens to requests after the signal
 * and the drain_timeout bound; this case checks the decisions themselves.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { startEchoUpstream } from '../helpers/echo-upstream.js';
import { ROOT } from '../helpers/harness.js';
import { loadClient, mixed, runLoad, warmUp } from '../helpers/load.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { trafficCase, trafficConfigYaml } from '../helpers/traffic.js';

describe('fault: SIGTERM under load', () => {
  const cleanup: Array<() => unknown> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('every request sent before the signal is answered exactly, and the process exits 0', async () => {
    const upstream = await startEchoUpstream();
    cleanup.push(() => upstream.close());
    const proc = await startServeProcess(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
server: { drain_timeout: 5s }
policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "", watch: false }
log: { level: info }
${trafficConfigYaml(upstream.url)}`);
    cleanup.push(proc.kill);
    const client = loadClient(proc.httpPort, proc.grpcPort);

    let signalled = false;
    let answered = 0;
    let inFlightAtSignal = 0;
    const send = mixed(client, (i) => trafficCase(i));
    await warmUp(client, (i) => trafficCase(10_000 + i));
    const report = await runLoad('SIGTERM under load', {
      total: 2000,
      concurrency: 32,
      request: async (i) => {
        const outcome = await send(i);
        answered += 1;
        return outcome;
      },
      at: (i) => {
        if (i !== 800) return;
        signalled = true;
        inFlightAtSignal = i - answered;
        proc.child.kill('SIGTERM');
      },
      stop: () => signalled,
    });
    // Every answer is in: hang up, as Centrifugo does on GOAWAY and `connection: close`.
    client.close();
    const exit = await Promise.race([proc.exited, sleep(10_000).then(() => undefined)]);
    assert.ok(exit, `the process exits; output:\n${proc.output().slice(-2000)}`);
    assert.equal(exit.code, 0, proc.output().slice(-2000));
    console.log(JSON.stringify({ inFlightAtSignal, exitCode: exit.code }));
    assert.equal(report.sent, 800);
    assert.ok(inFlightAtSignal > 0, 'requests were in flight when the signal came');
    assert.deepEqual({ failed: report.failed, wrong: report.wrong }, { failed: 0, wrong: 0 }, report.examples.join('\n'));
  });
});
