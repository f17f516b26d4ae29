/**
 * The cost of tracing (`node --import tsx bench/tracing.ts`, also a section of `npm run bench`):
 * the service's HTTP subscribe with tracing off, and on at 100% sampling exporting to a local
 * OTLP/HTTP receiver, measured side by side (req/s and CPU per request). Goal: at most 15% fewer requests per second.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { atLeast, cacheCell, withCacheCheck } from './lib/cache-share.js';
import { buildFixtures, CALLER_HEADERS, serviceConfig } from './lib/fixtures.js';
import { pinSelfToLoadCore, startServer } from './lib/processes.js';
import type { Goal } from './lib/report.js';
import { median, spread } from './lib/stats.js';
import { failed, wrk, type LoadResult } from './lib/wrk.js';

const ROUNDS = 3;
const GOAL = 0.15;
/** One subscribe body, after a 2 s warm-up of the same: every decision from memory. */
const CACHED = [atLeast('memory', 0.99)];

export async function runTracingBench(options: { seconds?: number } = {}): Promise<{ lines: string[]; goals: Goal[]; failures: string[] }> {
  const seconds = options.seconds ?? 5;
  const f = buildFixtures(1, 1);
  const config = serviceConfig(f, 'service-tracing', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });
  // The receiver accepts and drops: we measure the service's side of tracing, not a collector.
  let exported = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exported++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const variants: Array<[string, Record<string, string>]> = [
    ['tracing off', { OTEL_SDK_DISABLED: 'true' }],
    ['tracing on, 100% sampled, OTLP/HTTP protobuf export', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'always_on' }],
    ['tracing on, 10% sampled', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }],
  ];
  // Runs on this VM vary by ±15% from one server process to the next, more than the effect we
  // measure: each variant runs in ROUNDS fresh processes, interleaved, each warmed for 2 s.
  const results = new Map<string, LoadResult[]>(variants.map(([name]) => [name, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, env] of variants) {
        const server = await startServer('bench/servers/service.ts', { BENCH_CONFIG: config, PORT: '0', GRPC_PORT: '0', ...env });
        try {
          const load = { url: `http://127.0.0.1:${server.ready.port}/centrifugo/subscribe`, connections: 64, bodyFile: f.bodies.subscribe, expect: { body: '{"result":{}}' }, headers: CALLER_HEADERS, serverPid: server.child.pid };
          await wrk({ ...load, seconds: 2 });
          results.get(name)?.push(await withCacheCheck(server.ready.port, CACHED, () => wrk({ ...load, seconds })));
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    receiver.close();
  }
  return tracingReport(variants.map(([name]) => [name, results.get(name) ?? []]), exported);
}

/**
 * Per variant: the best error-free round's req/s, the spread, the median CPU per request; the
 * cost of tracing by CPU (verdict basis: how many fewer requests one core answers) and by req/s.
 */
function tracingReport(variants: Array<[string, LoadResult[]]>, exported: number): { lines: string[]; goals: Goal[]; failures: string[] } {
  const clean = (list: LoadResult[]) => list.filter((r) => !failed(r));
  const cpuOf = (list: LoadResult[]) => median(clean(list).map((r) => r.cpuUsPerRequest ?? NaN));
  const bestRps = (list: LoadResult[]) => Math.max(...clean(list).map((r) => r.rps));
  const lines = [
    `| HTTP subscribe (cached decision), ${ROUNDS} rounds | best clean req/s | req/s spread | median CPU µs/req | CPU spread | p99 ms (best round) | errors (all rounds) | decisions from memory per round (expected ≥ 99%) |`,
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  const failures: string[] = [];
  for (const [name, list] of variants) {
    const best = clean(list).sort((a, b) => b.rps - a.rps)[0];
    const shares = list.map((r) => `${r.cache?.headline ?? '–'}${r.cache?.failure ? ' ✗' : ''}`).join(', ');
    lines.push(`| ${name} | ${best ? best.rps.toFixed(0) : '✗'} | ${spread(list.map((r) => r.rps))} | ${cpuOf(list).toFixed(1)} | ${spread(list.map((r) => r.cpuUsPerRequest ?? NaN), 1)} | ${best ? best.p99ms.toFixed(2) : '–'} | ${list.reduce((n, r) => n + r.errors, 0)} | ${shares} |`);
    list.forEach((r, round) => {
      if (failed(r)) failures.push(`tracing, ${name}, round ${round + 1}: ${r.errors} errors${r.firstMismatch ? ` (first: ${r.firstMismatch})` : ''}; cache ${cacheCell(r.cache)}`);
    });
  }
  for (const f of failures) console.error(`  ${f} — FAILED`);
  const [off, on, sampled] = variants.map(([, list]) => list) as [LoadResult[], LoadResult[], LoadResult[]];
  // Fewer requests per core: 1 − (CPU per request off ÷ on).
  const costByCpu = (list: LoadResult[]) => 1 - cpuOf(off) / cpuOf(list);
  const costByRps = (list: LoadResult[]) => 1 - bestRps(list) / bestRps(off);
  const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');
  lines.push('', `Tracing on at 100% sampling costs ${pct(costByCpu(on))} of the requests per core by CPU per request (${pct(costByRps(on))} by best req/s); at 10% sampling ${pct(costByCpu(sampled))} (${pct(costByRps(sampled))}). Goal ≤ ${GOAL * 100}%. ${exported} OTLP export requests received.`);
  const measured = Number.isFinite(costByCpu(on));
  return {
    lines,
    failures,
    goals: [
      {
        goal: `tracing at 100% sampling costs ≤ ${GOAL * 100}% (basis: CPU per request)`,
        measured: `${pct(costByCpu(on))} by CPU, ${pct(costByRps(on))} by req/s; 10% sampled: ${pct(costByCpu(sampled))}, ${pct(costByRps(sampled))}`,
        met: measured ? costByCpu(on) <= GOAL : undefined,
      },
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  pinSelfToLoadCore();
  for (const line of (await runTracingBench()).lines) console.log(line);
}
