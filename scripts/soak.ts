/**
 * `npm run soak`: drives the served process (`serve`) with SOAK_REQUESTS (default 1,000,000)
 * mixed requests — connect, subscribe, publish and rpc, allows and denies, over HTTP and GRPC
 * in turn, a new user ID and channel for each request so every cache bound is passed many times
 * over — checks every answer against the exact expected one, and samples the process's RSS
 * from /proc every SOAK_SAMPLE_EVERY requests (default: 20 samples). Prints the RSS curve (MiB)
 * and the counts (sent, failed, wrong); exits 1 on any failed or wrong answer.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { startEchoUpstream } from '../test/helpers/echo-upstream.js';
import { ROOT } from '../test/helpers/harness.js';
import { loadClient, mixed, runLoad } from '../test/helpers/load.js';
import { startServeProcess } from '../test/helpers/serve-process.js';
import { trafficCase, trafficConfigYaml } from '../test/helpers/traffic.js';

const total = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 32);
const sampleEvery = Number(process.env.SOAK_SAMPLE_EVERY ?? Math.max(1, Math.floor(total / 20)));

const rssMiB = (pid: number): number => {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round((Number(kb) / 1024) * 10) / 10;
};

const upstream = await startEchoUpstream();
const proc = await startServeProcess(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "", watch: false }
log: { level: info }
${trafficConfigYaml(upstream.url)}`);
const pid = proc.child.pid as number;
const client = loadClient(proc.httpPort, proc.grpcPort);
const curve: Array<{ requests: number; rssMiB: number }> = [{ requests: 0, rssMiB: rssMiB(pid) }];
console.log(`soak: ${total} requests, concurrency ${concurrency}, RSS of pid ${pid} every ${sampleEvery} requests`);
console.log(`requests\trss_mib`);
console.log(`0\t${curve[0]?.rssMiB.toFixed(1)}`);

let code = 1;
try {
  const send = mixed(client, (i) => trafficCase(i));
  const report = await runLoad('soak', {
    total,
    concurrency,
    request: send,
    at: (i) => {
      if (i === 0 || i % sampleEvery !== 0) return;
      const point = { requests: i, rssMiB: rssMiB(pid) };
      curve.push(point);
      console.log(`${point.requests}\t${point.rssMiB.toFixed(1)}`);
    },
  });
  const end = { requests: total, rssMiB: rssMiB(pid) };
  curve.push(end);
  console.log(`${end.requests}\t${end.rssMiB.toFixed(1)}`);
  const peak = Math.max(...curve.map((p) => p.rssMiB));
  console.log(JSON.stringify({ soak: { sent: report.sent, failed: report.failed, wrong: report.wrong, seconds: Math.round(report.ms / 100) / 10, rps: Math.round(report.sent / (report.ms / 1000)), startMiB: curve[1]?.rssMiB, endMiB: end.rssMiB, peakMiB: peak } }));
  for (const e of report.examples) console.log(e);
  code = report.failed === 0 && report.wrong === 0 ? 0 : 1;
} finally {
  client.close();
  proc.child.kill('SIGTERM');
  await proc.exited;
  await upstream.close();
  const config = /--config (\S+)/.exec(proc.child.spawnargs.join(' '))?.[1];
  if (config) rmSync(dirname(config), { recursive: true, force: true });
}
process.exit(code);
