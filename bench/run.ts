/**
 * `npm run bench`: every figure measured side by side in one run and printed as ratios.
 * Servers run one at a time in their own process pinned to core 0; load generators (wrk for
 * HTTP, h2load for GRPC, an open-loop undici client for the storm) are pinned to core 1.
 * BENCH_SECONDS (default 5) sets the length of each row; BENCH_ONLY=http,grpc,goals,policy,tracing,storm,e2e
 * picks sections (e2e: through the real Centrifugo, bench/e2e.ts); BENCH_ROUNDS (default 3) the rounds of the goal ratios. The output is markdown, also written to .bench-out/latest.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildFixtures, serviceConfig, type Fixtures } from './lib/fixtures.js';
import { grpcFrame, h2load, writeFrame } from './lib/h2load.js';
import { haveTool, pinSelfToLoadCore, startServer, type Started } from './lib/processes.js';
import { storm, type StormResult } from './lib/storm.js';
import { wrk, type LoadResult } from './lib/wrk.js';
import { redisAnswers } from './lib/redis.js';
import { dropPrefix, redisClient } from '../test/helpers/redis.js';

pinSelfToLoadCore();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 64;
const STREAMS = 100;
const ONLY = new Set((process.env.BENCH_ONLY ?? 'http,grpc,goals,policy,tracing,storm,e2e').split(','));
const UNIQUE_TOKENS = Number(process.env.BENCH_UNIQUE_TOKENS ?? 30_000);
const ALLOW = '{"result":{}}';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const out: string[] = [];
const print = (line = '') => {
  out.push(line);
  console.log(line);
};

// Only the wrk/h2load/storm sections need the tools and the pool of signed connect bodies.
const LOAD_SECTIONS = ['http', 'grpc', 'goals', 'storm'].some((s) => ONLY.has(s));
for (const tool of LOAD_SECTIONS ? ['wrk', 'h2load'] : []) {
  if (!haveTool(tool)) {
    console.error(`${tool} is not installed: apt-get install -y wrk nghttp2-client (or run .ci/bench-tools)`);
    process.exit(1);
  }
}

if (LOAD_SECTIONS) console.error(`signing ${UNIQUE_TOKENS} RS256 tokens…`);
const f: Fixtures = LOAD_SECTIONS ? buildFixtures(UNIQUE_TOKENS, UNIQUE_TOKENS) : buildFixtures(1, 1);
// Port 0 everywhere: each server reports the port the OS gave it.
const port = () => 0;

async function withServer<T>(script: string, env: Record<string, string>, run: (s: Started) => Promise<T>): Promise<T> {
  const server = await startServer(script, env);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

const serviceEnv = (config: string) => ({ BENCH_CONFIG: config, PORT: String(port()), GRPC_PORT: String(port()) });

interface Row extends LoadResult {
  readonly name: string;
  readonly baseline?: string;
}
const rows: Row[] = [];
const row = (name: string, result: LoadResult, baseline?: string) => {
  rows.push({ name, baseline, ...result });
  console.error(`  ${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99ms.toFixed(2)} ms, errors ${result.errors}`);
};
const find = (name: string) => rows.find((r) => r.name === name);

function table(title: string, names: string[]) {
  print(`\n### ${title}\n`);
  print('| target | req/s | p50 ms | p99 ms | errors | ratio |');
  print('|---|---:|---:|---:|---:|---|');
  for (const name of names) {
    const r = find(name);
    if (!r) continue;
    const base = r.baseline ? find(r.baseline) : undefined;
    const ratio = base ? `${(r.rps / base.rps).toFixed(2)}× ${r.baseline}` : '';
    print(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${r.errors} | ${ratio} |`);
  }
}

const http = (url: string, body: Partial<Parameters<typeof wrk>[0]> & { expectPrefix: string }) =>
  wrk({ url, seconds: SECONDS, connections: CONNECTIONS, ...body });

if (ONLY.has('http')) {
  console.error('HTTP…');
  const upstream = await startServer('bench/servers/upstream.ts', { PORT: String(port()) }, { core: '1' });
  const shippedConfig = serviceConfig(f, 'service-shipped', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile, upstreamPort: upstream.ready.port });
  const rules1kConfig = serviceConfig(f, 'service-1k', { policyDir: f.policyDirs.rules1k, publicKeyFile: f.publicKeyFile });
  try {
    await withServer('bench/servers/bare-node.ts', { PORT: String(port()) }, async (s) => {
      const url = `http://127.0.0.1:${s.ready.port}`;
      row('floor: bare node:http (subscribe body)', await http(`${url}/centrifugo/subscribe`, { bodyFile: f.bodies.subscribe, expectPrefix: ALLOW }));
      row('floor: bare node:http (connect body)', await http(`${url}/centrifugo/connect`, { bodyFile: f.bodies.connectRepeated, expectPrefix: ALLOW }));
    });
    await withServer('bench/servers/bare-express.ts', { PORT: String(port()) }, async (s) => {
      row('bare express 5 + express.json', await http(`http://127.0.0.1:${s.ready.port}/centrifugo/subscribe`, { bodyFile: f.bodies.subscribe, expectPrefix: ALLOW }), 'floor: bare node:http (subscribe body)');
    });
    await withServer('bench/servers/service.ts', serviceEnv(shippedConfig), async (s) => {
      const url = `http://127.0.0.1:${s.ready.port}/centrifugo`;
      const floor = 'floor: bare node:http (subscribe body)';
      row('service: subscribe, cached decision', await http(`${url}/subscribe`, { bodyFile: f.bodies.subscribe, expectPrefix: ALLOW }), floor);
      const uniqueChannel = readFileSync(f.bodies.subscribe, 'utf8').replace('chat:room-42', 'chat:room-|');
      row('service: subscribe, uncached (distinct channels)', await http(`${url}/subscribe`, { unique: uniqueChannel, expectPrefix: ALLOW }), floor);
      row('service: publish', await http(`${url}/publish`, { bodyFile: f.bodies.publish, expectPrefix: ALLOW }), floor);
      row('service: sub_refresh', await http(`${url}/sub_refresh`, { bodyFile: f.bodies.subRefresh, expectPrefix: '{"result":{"expire_at":' }), floor);
      row('service: rpc via a local upstream', await http(`${url}/rpc`, { bodyFile: f.bodies.rpc, expectPrefix: '{"result":{"data":{"ok":true}}}' }), floor);
      const connectFloor = 'floor: bare node:http (connect body)';
      row('service: connect, repeated RS256 token', await http(`${url}/connect`, { bodyFile: f.bodies.connectRepeated, expectPrefix: '{"result":{"user":"56"' }), connectFloor);
      row(`service: connect, distinct RS256 tokens (pool of ${UNIQUE_TOKENS})`, await http(`${url}/connect`, { linesFile: f.connectUniqueFile, expectPrefix: '{"result":{"user":"user-' }), connectFloor);
    });
    // As operators run it: decisions and verified tokens shared through Redis, revocations
    // mirrored from it. Redis (the machine's, not pinned) shares the cores with the rest.
    if (await redisAnswers(REDIS_URL)) {
      const prefix = `cpp-bench:${process.pid}:`;
      const redisConfig = serviceConfig(f, 'service-redis', {
        policyDir: f.policyDirs.shipped,
        publicKeyFile: f.publicKeyFile,
        extraYaml: `cache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}" }\n`,
      });
      await withServer('bench/servers/service.ts', serviceEnv(redisConfig), async (s) => {
        const url = `http://127.0.0.1:${s.ready.port}/centrifugo`;
        const floor = 'floor: bare node:http (subscribe body)';
        row('service + Redis: subscribe, cached decision', await http(`${url}/subscribe`, { bodyFile: f.bodies.subscribe, expectPrefix: ALLOW }), floor);
        const uniqueChannel = readFileSync(f.bodies.subscribe, 'utf8').replace('chat:room-42', 'chat:redis-room-|');
        row('service + Redis: subscribe, uncached (Redis GET + SET per miss)', await http(`${url}/subscribe`, { unique: uniqueChannel, expectPrefix: ALLOW }), floor);
        row('service + Redis: connect, repeated token', await http(`${url}/connect`, { bodyFile: f.bodies.connectRepeated, expectPrefix: '{"result":{"user":"56"' }), 'floor: bare node:http (connect body)');
      });
      const client = redisClient(REDIS_URL);
      await dropPrefix(client, prefix);
      client.disconnect();
    } else {
      console.error(`  no Redis answers at ${REDIS_URL}: the "service + Redis" rows are skipped`);
    }
    await withServer('bench/servers/naive-peer.ts', { PORT: String(port()), BENCH_POLICY_DIR: f.policyDirs.rules1k, BENCH_PUBLIC_KEY: f.publicKeyFile }, async (s) => {
      const url = `http://127.0.0.1:${s.ready.port}/centrifugo`;
      row('naive peer: subscribe, 1k rules', await http(`${url}/subscribe`, { bodyFile: f.bodies.subscribe, expectPrefix: ALLOW }));
      row('naive peer: connect, repeated RS256 token', await http(`${url}/connect`, { bodyFile: f.bodies.connectRepeated, expectPrefix: '{"result":{"user":"56"' }));
    });
    await withServer('bench/servers/service.ts', serviceEnv(rules1kConfig), async (s) => {
      const url = `http://127.0.0.1:${s.ready.port}/centrifugo`;
      row('service: subscribe, 1k rules, cached', await http(`${url}/subscribe`, { bodyFile: f.bodies.subscribe, expectPrefix: ALLOW }), 'naive peer: subscribe, 1k rules');
      const uniqueChannel = readFileSync(f.bodies.subscribe, 'utf8').replace('chat:room-42', 'chat:room-|');
      row('service: subscribe, 1k rules, uncached', await http(`${url}/subscribe`, { unique: uniqueChannel, expectPrefix: ALLOW }), 'naive peer: subscribe, 1k rules');
      row('service: connect, repeated token, 1k rules', await http(`${url}/connect`, { bodyFile: f.bodies.connectRepeated, expectPrefix: '{"result":{"user":"56"' }), 'naive peer: connect, repeated RS256 token');
    });
  } finally {
    await upstream.stop();
  }
  table(`HTTP: wrk, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per row`, rows.map((r) => r.name));
}

/** The GRPC SubscribeRequest h2load sends: the same question as the HTTP subscribe body. */
async function subscribeFrame(): Promise<string> {
  return writeFrame(`${f.dir}/subscribe.grpc`, await grpcFrame('SubscribeRequest', {
    client: '9336a229-2400-4ebc-8c50-0a643d22e8a0', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:room-42', meta: Buffer.from('{"roles":["role:member"]}'),
  }));
}

if (ONLY.has('grpc')) {
  console.error('GRPC…');
  const frame = await subscribeFrame();
  const grpcRows: string[] = [];
  const grpcLoad = (p: number) => h2load({ port: p, method: 'Subscribe', frameFile: frame, seconds: SECONDS, streams: STREAMS });
  await withServer('bench/servers/bare-grpc.ts', { GRPC_PORT: String(port()) }, async (s) => {
    row('floor: bare grpc-js unary', await grpcLoad(s.ready.grpcPort as number));
  });
  grpcRows.push('floor: bare grpc-js unary');
  const config = serviceConfig(f, 'service-grpc', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });
  await withServer('bench/servers/service.ts', serviceEnv(config), async (s) => {
    row('service: GRPC subscribe, cached decision', await grpcLoad(s.ready.grpcPort as number), 'floor: bare grpc-js unary');
  });
  grpcRows.push('service: GRPC subscribe, cached decision');
  table(`GRPC: h2load, 1 connection, ${STREAMS} concurrent streams, ${SECONDS} s per row (p50 column = mean, p99 column = max: h2load reports no percentiles)`, grpcRows);
}

/**
 * The goal ratios again, robust to this VM's noise: one server process to the next varies by
 * up to ±30% here, more than some of the gaps we measure. Each target runs in ROUNDS fresh
 * processes, interleaved with its floor, each warmed for 2 s; the best round counts
 * (interference only ever lowers a figure).
 */
if (ONLY.has('goals')) {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  console.error(`goal ratios, best of ${ROUNDS} rounds…`);
  const config = serviceConfig(f, 'service-goals', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });
  const frame = await subscribeFrame();
  const viaHttp = (path: string, bodyFile: string, expectPrefix: string) => (s: Started, seconds: number) =>
    wrk({ url: `http://127.0.0.1:${s.ready.port}${path}`, seconds, connections: CONNECTIONS, bodyFile, expectPrefix });
  const viaGrpc = (s: Started, seconds: number) => h2load({ port: s.ready.grpcPort as number, method: 'Subscribe', frameFile: frame, seconds, streams: STREAMS });
  const targets: Array<{ name: string; script: string; env: Record<string, string>; load: (s: Started, seconds: number) => Promise<LoadResult> }> = [
    { name: 'floor: node:http, subscribe body', script: 'bench/servers/bare-node.ts', env: { PORT: '0' }, load: viaHttp('/centrifugo/subscribe', f.bodies.subscribe, ALLOW) },
    { name: 'service: HTTP subscribe, cached', script: 'bench/servers/service.ts', env: serviceEnv(config), load: viaHttp('/centrifugo/subscribe', f.bodies.subscribe, ALLOW) },
    { name: 'floor: node:http, connect body', script: 'bench/servers/bare-node.ts', env: { PORT: '0' }, load: viaHttp('/centrifugo/connect', f.bodies.connectRepeated, ALLOW) },
    { name: 'service: HTTP connect, repeated RS256 token', script: 'bench/servers/service.ts', env: serviceEnv(config), load: viaHttp('/centrifugo/connect', f.bodies.connectRepeated, '{"result":{"user":"56"') },
    { name: 'floor: grpc-js unary', script: 'bench/servers/bare-grpc.ts', env: { GRPC_PORT: '0' }, load: viaGrpc },
    { name: 'service: GRPC subscribe, cached', script: 'bench/servers/service.ts', env: serviceEnv(config), load: viaGrpc },
  ];
  const best = new Map<string, LoadResult>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of targets) {
      const result = await withServer(target.script, target.env, async (s) => {
        await target.load(s, 2);
        return target.load(s, SECONDS);
      });
      if (result.errors > 0) console.error(`  ${target.name}: ${result.errors} errors`);
      const seen = best.get(target.name);
      if (!seen || result.rps > seen.rps) best.set(target.name, result);
    }
  }
  const rps = (name: string) => best.get(name)?.rps ?? 0;
  print(`\n### Goal ratios: best of ${ROUNDS} interleaved rounds, ${SECONDS} s each after a 2 s warm-up\n`);
  print('| goal | floor req/s | service req/s | ratio | target |');
  print('|---|---:|---:|---:|---:|');
  for (const [goal, floor, service, target] of [
    ['HTTP subscribe vs bare node:http', 'floor: node:http, subscribe body', 'service: HTTP subscribe, cached', 0.8],
    ['GRPC subscribe vs bare grpc-js', 'floor: grpc-js unary', 'service: GRPC subscribe, cached', 0.8],
    ['connect, repeated RS256 token vs bare node:http', 'floor: node:http, connect body', 'service: HTTP connect, repeated RS256 token', 0.7],
  ] as const) {
    print(`| ${goal} | ${rps(floor).toFixed(0)} | ${rps(service).toFixed(0)} | ${(rps(service) / rps(floor)).toFixed(2)}× | ≥ ${target}× |`);
  }
}

/** Sections contributed by other modules; each exports a function returning markdown lines. */
async function optionalSection(title: string, module: string, exportName: string) {
  let section: Record<string, unknown>;
  try {
    section = (await import(module)) as Record<string, unknown>;
  } catch (err) {
    print(`\n### ${title}\n\nnot available: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  const run = section[exportName];
  if (typeof run !== 'function') return;
  print(`\n### ${title}\n`);
  const lines = (await (run as (o: { seconds: number }) => Promise<unknown>)({ seconds: SECONDS })) as unknown;
  if (Array.isArray(lines)) for (const line of lines) print(String(line));
}

if (ONLY.has('e2e')) await optionalSection('End to end through the real Centrifugo: connect + subscribe sessions', './e2e.js', 'runE2eBench');
if (ONLY.has('policy')) await optionalSection('Policy engine micro-benchmarks', './policy.js', 'runPolicyBench');
if (ONLY.has('tracing')) await optionalSection('Cost of tracing', './tracing.js', 'runTracingBench');

if (ONLY.has('storm')) {
  console.error('connection storm…');
  const lines = readFileSync(f.connectUniqueFile, 'utf8').trim().split('\n');
  // 10,000 distinct users, each reconnecting 5 times with its token, in a shuffled order.
  const users = lines.slice(0, 10_000);
  const bodies = Array.from({ length: 50_000 }, (_, i) => users[(i * 7919) % users.length] as string);
  const config = serviceConfig(f, 'service-storm', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });
  const results: StormResult[] = [];
  // A storm hits a proxy that was already serving: warm the process (JIT) with 3 s of connects
  // from other users first; the storm's own tokens stay unverified (cold token cache).
  const warmBodies = lines.slice(10_000, 16_000);
  const warm = (url: string) => storm({ url, path: '/centrifugo/connect', bodies: warmBodies, rate: 1000, total: 3000, expectPrefix: '{"result":{"user":"user-' });
  await withServer('bench/servers/service.ts', serviceEnv(config), async (s) => {
    const url = `http://127.0.0.1:${s.ready.port}`;
    await warm(url);
    const run = (rate: number, total: number) => storm({ url, path: '/centrifugo/connect', bodies, rate, total, expectPrefix: '{"result":{"user":"user-' });
    results.push(await run(2000, 50_000));
  });
  // The highest offered rate whose p99 stays under Centrifugo's 1 s proxy timeout: each rate
  // on a fresh, warmed service (cold token cache), 20,000 connects from the same 10,000 users.
  for (const rate of [3000, 4000, 6000, 8000, 12000]) {
    const result = await withServer('bench/servers/service.ts', serviceEnv(config), async (s) => {
      await warm(`http://127.0.0.1:${s.ready.port}`);
      return storm({ url: `http://127.0.0.1:${s.ready.port}`, path: '/centrifugo/connect', bodies, rate, total: 20_000, expectPrefix: '{"result":{"user":"user-' });
    });
    results.push(result);
    console.error(`  storm at ${rate}/s: p99 ${result.p99ms.toFixed(1)} ms, errors ${result.errors}`);
    if (result.p99ms >= 1000 || result.errors > 0) break;
  }
  print('\n### Connection storm: open loop, connects from 10,000 distinct users with RS256 tokens\n');
  print('| offered/s | connects | achieved/s | p50 ms | p99 ms | max ms | errors |');
  print('|---:|---:|---:|---:|---:|---:|---:|');
  results.forEach((r, i) => print(`| ${r.offered} | ${i === 0 ? 50_000 : 20_000} | ${r.achieved.toFixed(0)} | ${r.p50ms.toFixed(1)} | ${r.p99ms.toFixed(1)} | ${r.maxms.toFixed(1)} | ${r.errors} |`));
  const under = results.filter((r) => r.p99ms < 1000 && r.errors === 0).map((r) => r.offered);
  print(`\nHighest offered rate measured with p99 < 1 s and no errors: ${under.length > 0 ? `${Math.max(...under)}/s` : 'none'}.`);
}

mkdirSync('.bench-out', { recursive: true });
writeFileSync('.bench-out/latest.md', `${out.join('\n')}\n`);
