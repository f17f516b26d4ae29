/**
 * Two builds of the service through real sockets, A/B interleaved in one run: the cached HTTP
 * subscribe of `npm run bench` (wrk, 64 keep-alive connections, every answer checked), each
 * build's server in a fresh process pinned to the server core, CPU µs per request from /proc,
 * user space and kernel apart. Where bench/hot-path-cpu.ts leaves node:http out (it feeds the
 * request listener fake request and response objects), this keeps everything a user's process
 * does per request: node's parser and ServerResponse, the socket writes, the wake-ups.
 *
 *   AB_BASE=/path/to/baseline/checkout node --import tsx bench/socket-ab.ts
 *
 * AB_BASE as for hot-path-cpu.ts (`git archive <commit> | tar -x -C dir`, plus a link to a
 * node_modules); AB_THIS (default this checkout), AB_ROUNDS (default 6), AB_SECONDS (default 5
 * per measurement, after 2 s of warm-up). Every round runs both builds back to back, alternating
 * which goes first; the verdict is the median of the per-round ratios, with their spread.
 */
import { resolve } from 'node:path';
import { buildFixtures, CALLER_HEADERS, ROOT, serviceConfig } from './lib/fixtures.js';
import { cpuSplit } from './lib/proc-cpu.js';
import { haveTool, pinSelfToLoadCore, startServer } from './lib/processes.js';
import { median, spread } from './lib/stats.js';
import { failed, wrk } from './lib/wrk.js';

if (!process.env.AB_BASE) {
  console.error('set AB_BASE to the baseline checkout');
  process.exit(2);
}
if (!haveTool('wrk')) {
  console.error('wrk is not installed: apt-get install -y wrk (or run .ci/bench-tools)');
  process.exit(1);
}
pinSelfToLoadCore();
const builds = [
  { name: 'base', root: resolve(process.env.AB_BASE) },
  { name: 'this', root: resolve(process.env.AB_THIS ?? ROOT) },
];
const ROUNDS = Number(process.env.AB_ROUNDS ?? 6);
const SECONDS = Number(process.env.AB_SECONDS ?? 5);
const f = buildFixtures(1, 1);
const config = serviceConfig(f, 'service-socket-ab', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });

interface Sample {
  readonly rps: number;
  readonly user: number;
  readonly system: number;
}

async function measure(root: string): Promise<Sample> {
  const server = await startServer(resolve(root, 'bench/servers/service.ts'), { BENCH_CONFIG: config, PORT: '0', GRPC_PORT: '0' });
  try {
    const pid = server.child.pid as number;
    const load = (seconds: number) =>
      wrk({ url: `http://127.0.0.1:${server.ready.port}/centrifugo/subscribe`, seconds, connections: 64, bodyFile: f.bodies.subscribe, expect: { body: '{"result":{}}' }, headers: CALLER_HEADERS });
    await load(2);
    const before = cpuSplit(pid);
    const result = await load(SECONDS);
    const after = cpuSplit(pid);
    if (failed(result)) throw new Error(`${root}: ${result.errors} wrong or missing answers${result.firstMismatch ? ` (first: ${result.firstMismatch})` : ''}`);
    const perRequest = (seconds: number) => (seconds * 1e6) / result.requests;
    return { rps: result.rps, user: perRequest(after.user - before.user), system: perRequest(after.system - before.system) };
  } finally {
    await server.stop();
  }
}

const samples = new Map<string, Sample[]>(builds.map((b) => [b.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    const sample = await measure(build.root);
    samples.get(build.name)?.push(sample);
    console.error(`  round ${round + 1} ${build.name}: ${sample.rps.toFixed(0)} req/s, ${(sample.user + sample.system).toFixed(1)} µs CPU/req (user ${sample.user.toFixed(1)}, kernel ${sample.system.toFixed(1)})`);
  }
}

const base = samples.get('base') as Sample[];
const mine = samples.get('this') as Sample[];
const total = (s: Sample) => s.user + s.system;
const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
const row = (name: string, of: (s: Sample) => number) => {
  const ratios = mine.map((s, i) => of(s) / of(base[i] as Sample));
  return `| ${name} | ${median(base.map(of)).toFixed(1)} (${spread(base.map(of), 1)}) | ${median(mine.map(of)).toFixed(1)} (${spread(mine.map(of), 1)}) | ${pct(median(ratios))} (${pct(Math.min(...ratios))}…${pct(Math.max(...ratios))}) |`;
};
console.log(`HTTP subscribe, cached decision, through sockets: ${ROUNDS} rounds of ${SECONDS} s per build, A/B interleaved\n`);
console.log('| per request | base median (min–max) | this median (min–max) | median of paired ratios (min–max) |');
console.log('|---|---:|---:|---:|');
console.log(row('CPU µs, user + kernel', total));
console.log(row('CPU µs, user space', (s) => s.user));
console.log(row('CPU µs, kernel', (s) => s.system));
console.log(row('req/s', (s) => s.rps));
