/**
 * CPU profile of the service under load: `node --import tsx bench/profile.ts [event]` with
 * event one of subscribe, publish, sub_refresh, rpc, connect (default subscribe). Starts the
 * service with --cpu-prof, drives it with wrk for BENCH_SECONDS, and prints the functions with
 * the most self time (the .cpuprofile stays in .bench-out/ for Chrome DevTools).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildFixtures, CALLER_HEADERS, connectAnswer, serviceConfig } from './lib/fixtures.js';
import { pinSelfToLoadCore, startServer } from './lib/processes.js';
import { wrk, type Expect } from './lib/wrk.js';

pinSelfToLoadCore();
const event = process.argv[2] ?? 'subscribe';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const bodyKey = { subscribe: 'subscribe', publish: 'publish', sub_refresh: 'subRefresh', rpc: 'rpc', connect: 'connectRepeated' } as const;
if (!(event in bodyKey)) {
  console.error(`unknown event ${event}: one of ${Object.keys(bodyKey).join(', ')}`);
  process.exit(2);
}
const key = event as keyof typeof bodyKey;

const f = buildFixtures(10, 10);
const expected: Record<keyof typeof bodyKey, Expect> = {
  subscribe: { body: '{"result":{}}' },
  publish: { body: '{"result":{}}' },
  sub_refresh: { prefix: '{"result":{"expire_at":' },
  rpc: { body: '{"result":{"data":{"ok":true}}}' },
  connect: { body: connectAnswer(f, '56') },
};
const upstream = await startServer('bench/servers/upstream.ts', { PORT: '0' }, { core: '1' });
const config = serviceConfig(f, 'service-profile', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile, upstreamPort: upstream.ready.port });
const dir = resolve('.bench-out/profile');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const service = await startServer('bench/servers/service.ts', { BENCH_CONFIG: config, PORT: '0', GRPC_PORT: '0' }, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
const url = `http://127.0.0.1:${service.ready.port}/centrifugo/${event}`;
try {
  const warm = await wrk({ url, seconds: 1, connections: 64, bodyFile: f.bodies[bodyKey[key]], expect: expected[key], headers: CALLER_HEADERS, serverPid: service.child.pid });
  const result = await wrk({ url, seconds: SECONDS, connections: 64, bodyFile: f.bodies[bodyKey[key]], expect: expected[key], headers: CALLER_HEADERS, serverPid: service.child.pid });
  // The total lets two profiles be compared per request (time in a function / requests answered).
  console.log(`${event}: ${result.rps.toFixed(0)} req/s, ${result.cpuUsPerRequest?.toFixed(1) ?? '–'} µs CPU/req (profiler on), p99 ${result.p99ms.toFixed(2)} ms, errors ${result.errors}; ${warm.requests + result.requests} requests in the profile`);
} finally {
  await service.stop();
  await upstream.stop();
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
for (const id of profile.samples) {
  const { functionName, url: source, lineNumber } = byId.get(id)!.callFrame;
  const where = source ? `${source.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber + 1}` : '';
  const name = `${functionName || '(anonymous)'} ${where}`.trim();
  self.set(name, (self.get(name) ?? 0) + 1);
}
const busy = profile.samples.filter((id) => byId.get(id)!.callFrame.functionName !== '(idle)').length;
console.log(`\nself time, share of busy samples (${busy} of ${profile.samples.length}):`);
for (const [name, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  if (name.startsWith('(idle)')) continue;
  console.log(`${((100 * count) / busy).toFixed(1).padStart(5)}%  ${name}`);
}
console.log(`\nprofile: ${join(dir, file)}`);
