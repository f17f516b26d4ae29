/**
 * `npm run soak`: drives the served process (`serve`) with SOAK_REQUESTS (default 1,000,000)
 * mixed requests — connect, subscribe, publish and rpc, allows and denies, over HTTP and GRPC
 * in turn, a new user ID and channel for each request so every cache bound is passed many times
 * over — checks every answer against the exact expected one, and samples the process's RSS
 * from /proc every SOAK_SAMPLE_EVERY requests (default: 20 samples). Prints the RSS curve (MiB)
 * with both processes' CPU seconds, the client's RSS and the rate since the last sample (a rate
 * that falls while the service idles means the client, not the service, sets it), then the
 * counts (sent, failed, wrong) and the served process's warn and error lines (how many, the
 * first few: a failure's cause); exits 1 on any failed or wrong answer.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpuSeconds } from '../bench/lib/proc-cpu.js';
import { memoryOf } from '../bench/lib/proc-memory.js';
import { startEchoUpstream } from '../test/helpers/echo-upstream.js';
import { ROOT } from '../test/helpers/harness.js';
import { loadClient, mixed, runLoad } from '../test/helpers/load.js';
import { lineSplitter, pinoLevel } from '../test/helpers/output-tail.js';
import { startServeProcess } from '../test/helpers/serve-process.js';
import { trafficCase, trafficConfigYaml } from '../test/helpers/traffic.js';

const total = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 32);
const sampleEvery = Number(process.env.SOAK_SAMPLE_EVERY ?? Math.max(1, Math.floor(total / 20)));

const rssMiB = (pid: number): number => Math.round(memoryOf(pid).rssMiB * 10) / 10;

const upstream = await startEchoUpstream();
const proc = await startServeProcess(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "", watch: false }
log: { level: info }
${trafficConfigYaml(upstream.url)}`);
const pid = proc.child.pid as number;
const client = loadClient(proc.httpPort, proc.grpcPort);
/** The served process's warn and error lines: how many, and the first few (a failure's cause). */
const warnings = { count: 0, first: [] as string[] };
const scanWarnings = lineSplitter((line) => {
  if ((pinoLevel(line) ?? 0) < 40) return;
  warnings.count += 1;
  if (warnings.first.length < 5) warnings.first.push(line);
});
proc.child.stdout?.on('data', (chunk: Buffer) => scanWarnings(chunk.toString()));
interface Point {
  readonly requests: number;
  readonly rssMiB: number;
  readonly rps: number;
}
const curve: Point[] = [];
let last = { requests: 0, at: performance.now() };
/** One row of the curve: the served process's RSS and CPU, the client's, and the rate since the last row. */
const sample = (requests: number): void => {
  const now = performance.now();
  const rps = requests === 0 ? 0 : Math.round((requests - last.requests) / ((now - last.at) / 1000));
  last = { requests, at: now };
  const point = { requests, rssMiB: rssMiB(pid), rps };
  curve.push(point);
  const client = memoryOf(process.pid).rssMiB;
  console.log([requests, point.rssMiB.toFixed(1), cpuSeconds(pid).toFixed(1), client.toFixed(1), cpuSeconds(process.pid).toFixed(1), rps].join('\t'));
};
console.log(`soak: ${total} requests, concurrency ${concurrency}, RSS of pid ${pid} every ${sampleEvery} requests`);
console.log(['requests', 'rss_mib', 'cpu_s', 'client_rss_mib', 'client_cpu_s', 'rps'].join('\t'));
sample(0);

let code = 1;
try {
  const send = mixed(client, (i) => trafficCase(i));
  const report = await runLoad('soak', {
    total,
    concurrency,
    request: send,
    at: (i) => {
      if (i !== 0 && i % sampleEvery === 0) sample(i);
    },
  });
  sample(total);
  const end = curve[curve.length - 1] as Point;
  const peak = Math.max(...curve.map((p) => p.rssMiB));
  console.log(
    JSON.stringify({
      soak: {
        sent: report.sent,
        failed: report.failed,
        wrong: report.wrong,
        seconds: Math.round(report.ms / 100) / 10,
        rps: Math.round(report.sent / (report.ms / 1000)),
        firstRps: curve[1]?.rps,
        lastRps: end.rps,
        startMiB: curve[1]?.rssMiB,
        endMiB: end.rssMiB,
        peakMiB: peak,
        peakHwmMiB: Math.round(memoryOf(pid).peakMiB * 10) / 10,
        cpuSeconds: cpuSeconds(pid),
        clientCpuSeconds: cpuSeconds(process.pid),
        clientPeakMiB: Math.round(memoryOf(process.pid).peakMiB * 10) / 10,
        serverWarnings: warnings.count,
      },
    }),
  );
  for (const e of report.examples) console.log(e);
  for (const line of warnings.first) console.log(`served process: ${line}`);
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
