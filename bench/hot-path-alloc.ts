/**
 * `npm run bench:alloc`: heap bytes allocated per call of each hot function and per request
 * of each hot path, so a change that adds allocations on the hot path is seen (a guard, not a
 * timed test: run it before and after a change and compare). Deterministic where CPU time on a
 * shared VM is not: with a new space large enough that no collection runs during a window,
 * the heap's growth over N calls is what they allocated (a window in which a collection did
 * run is repeated; the script fails if none is clean).
 *
 * ALLOC_BASE=/path/to/other/checkout adds that build's figures beside this one's (A/B).
 * Run through the npm script: it sets --expose-gc and a 256 MB semi-space.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import { buildFixtures, ROOT, serviceConfig } from './lib/fixtures.js';
import { startDriver } from './hot-path-driver.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc --max-semi-space-size=256 --min-semi-space-size=256 (npm run bench:alloc)');
  process.exit(2);
}

/** Start times of collections (entries arrive late, so a window is judged by their start times). */
const collections: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) collections.push(entry.startTime);
}).observe({ entryTypes: ['gc'] });

/** Bytes allocated per call of `run` (awaited one at a time), from a window without any collection. */
async function bytesPerCall(run: () => unknown, calls: number): Promise<number> {
  for (let i = 0; i < Math.min(calls, 2000); i++) await run();
  for (let attempt = 0; attempt < 5; attempt++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
    const started = performance.now();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) await run();
    const grown = process.memoryUsage().heapUsed - before;
    const ended = performance.now();
    await new Promise((r) => setTimeout(r, 20));
    const during = collections.filter((t) => t >= started && t <= ended).length;
    if (during === 0) return grown / calls;
    console.error(`  ${during} collections in a window of ${calls} calls; again`);
  }
  throw new Error('every window had a garbage collection: raise --min-semi-space-size');
}

interface Probe {
  readonly name: string;
  readonly calls: number;
  prepare(root: string): Promise<() => unknown>;
}

const f = buildFixtures(1, 1);
const config = serviceConfig(f, 'service-alloc', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });
const subscribeBody = readFileSync(f.bodies.subscribe);
const connectBody = readFileSync(f.bodies.connectRepeated);
const subscribeRequest = {
  client: '9336a229-2400-4ebc-8c50-0a643d22e8a0',
  transport: 'websocket',
  protocol: 'json',
  encoding: 'json',
  user: '56',
  channel: 'chat:room-42',
  meta: Buffer.from('{"roles":["role:member"]}'),
};
const protoRoot = new protobuf.Root().loadSync(resolve(ROOT, 'proto/centrifugo_proxy.proto'), { keepCase: true });
const subscribeMessage = Buffer.from(protoRoot.lookupType('centrifugal.centrifugo.proxy.SubscribeRequest').encode(subscribeRequest).finish());
const load = <T>(root: string, path: string) => import(pathToFileURL(`${root}/src/${path}`).href) as Promise<T>;

/** The whole path of a request, and the functions on it that allocate per request. */
const probes: Probe[] = [
  {
    name: 'HTTP subscribe, cached decision (request)',
    calls: 20_000,
    prepare: async (root) => {
      const driver = await startDriver(root, config);
      return () => driver.http('/centrifugo/subscribe', subscribeBody);
    },
  },
  {
    name: 'GRPC subscribe, cached decision (request)',
    calls: 20_000,
    prepare: async (root) => {
      const driver = await startDriver(root, config);
      return () => driver.grpc('Subscribe', subscribeMessage);
    },
  },
  {
    name: 'HTTP connect, repeated RS256 token (request)',
    // Fewer calls: main's 13 kB per connect times 20,000 fills the 256 MB semi-space, and every window collected.
    calls: 10_000,
    prepare: async (root) => {
      const driver = await startDriver(root, config);
      return () => driver.http('/centrifugo/connect', connectBody);
    },
  },
  {
    // A build without the synchronous lookup (authenticateNow) is measured through authenticate().
    name: 'connect authentication, repeated RS256 token (authenticateNow, else authenticate)',
    calls: 100_000,
    prepare: async (root) => {
      const { JwtAuthenticator } = await load<typeof import('../src/auth/jwt-authenticator.js')>(root, 'auth/jwt-authenticator.ts');
      const { loadConfig } = await load<typeof import('../src/config/load.js')>(root, 'config/load.ts');
      const { config: loaded } = loadConfig(config, { ...process.env, HTTP_PORT: '0', GRPC_PORT: '0', LOG_LEVEL: 'silent' });
      const authenticator = new JwtAuthenticator(loaded.auth);
      const fields = JSON.parse(connectBody.toString()) as { data: unknown };
      const request = { client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', binary: false, headers: new Map(), data: { bytes: Buffer.from(JSON.stringify(fields.data)), parsed: fields.data } } as never;
      if ((await authenticator.authenticate(request)).kind !== 'authenticated') throw new Error('the bench token does not verify');
      return authenticator.authenticateNow ? () => authenticator.authenticateNow(request) : () => authenticator.authenticate(request);
    },
  },
  {
    name: 'cacheKey (subscribe query)',
    calls: 100_000,
    prepare: async (root) => {
      const { cacheKey } = await load<typeof import('../src/policy/decider.js')>(root, 'policy/decider.ts');
      const query = { user: '56', roles: ['role:member'], action: 'subscribe', object: 'chat:room-42' };
      return () => cacheKey('0123456789ab', query);
    },
  },
  {
    name: 'decodeRequest (subscribe, HTTP fields)',
    calls: 100_000,
    prepare: async (root) => {
      const { decodeRequest } = await load<typeof import('../src/core/decode.js')>(root, 'core/decode.ts');
      const fields = JSON.parse(subscribeBody.toString()) as Record<string, unknown>;
      const headers = new Map<string, string>();
      return () => decodeRequest('subscribe', { fields, meta: fields.meta as never, headers });
    },
  },
  {
    name: 'encodeHttpDecision (allow {})',
    calls: 100_000,
    prepare: async (root) => {
      const { encodeHttpDecision } = await load<typeof import('../src/transport/http/encode.js')>(root, 'transport/http/encode.ts');
      const decision = { kind: 'result', result: {} } as const;
      return () => encodeHttpDecision(decision, false);
    },
  },
];

const builds = [{ name: 'this', root: ROOT }, ...(process.env.ALLOC_BASE ? [{ name: 'base', root: resolve(process.env.ALLOC_BASE) }] : [])];
const results = new Map<string, number[]>();
for (const probe of probes) {
  const row: number[] = [];
  for (const build of builds) row.push(await bytesPerCall(await probe.prepare(build.root), probe.calls));
  results.set(probe.name, row);
}

console.log(`Heap bytes allocated per call (one call at a time; ${builds.map((b) => `${b.name}: ${b.root}`).join(', ')})\n`);
console.log(`| function or request | ${builds.map((b) => b.name).join(' | ')} |`);
console.log(`|---|${builds.map(() => '---:').join('|')}|`);
for (const [name, row] of results) console.log(`| ${name} | ${row.map((b) => b.toFixed(0)).join(' | ')} |`);
process.exit(0);
