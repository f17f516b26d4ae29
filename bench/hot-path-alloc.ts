/**
 * `npm run bench:alloc`: heap bytes allocated per call of each hot function and per request
 * of each hot path, so a change that adds allocations on the hot path is seen (a guard, not a
 * timed test: run it before and after a change and compare). Deterministic where CPU time on a
 * shared VM is not: with a new space large enough that no collection runs during a window,
 * the heap's growth over N calls is what they allocated (a window in which a collection did
 * run is repeated; the script fails if none is clean).
 *
 * Each probe has a budget: the script fails (exit 1) when this build allocates more, and
 * test/integration/hot-path-alloc-budget.test.ts runs it in `npm test`.
 * ALLOC_BASE=/path/to/other/checkout adds that build's figures beside this one's (A/B);
 * ALLOC_ONLY=text keeps the probes whose name contains it; ALLOC_BUDGET_SCALE=x multiplies every
 * budget (the test sets 0 to see the guard trip).
 * Run through the npm script: it sets --expose-gc, a 256 MB semi-space, and
 * --no-concurrent-recompilation (optimized code is ready when the warm-up ends, however busy the
 * machine: with background compilation a loaded machine measured up to 60 B more per call).
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
  console.error('run with --expose-gc --no-concurrent-recompilation --max-semi-space-size=256 --min-semi-space-size=256 (npm run bench:alloc)');
  process.exit(2);
}

/** Start times of collections (entries arrive late, so a window is judged by their start times). */
const collections: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) collections.push(entry.startTime);
}).observe({ entryTypes: ['gc'] });

/**
 * Calls `run` `calls` times, one at a time: a promise is awaited, a plain value is not (an
 * await allocates by itself, which would be counted against a synchronous function).
 */
async function callEach(run: () => unknown, calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const result = run();
    if (result instanceof Promise) await result;
  }
}

/** Bytes allocated per call of `run`, from a window without any collection. */
async function bytesPerCall(run: () => unknown, calls: number): Promise<number> {
  await callEach(run, Math.min(calls, 2000));
  for (let attempt = 0; attempt < 5; attempt++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
    const started = performance.now();
    const before = process.memoryUsage().heapUsed;
    await callEach(run, calls);
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
  /**
   * Most bytes per call this build may allocate: the figure measured when the budget was set,
   * plus about 30% or 64 bytes, whichever is more (runs agree to a few bytes; other machines
   * and Node patch releases may move it a little). Lower it when a change saves allocations; raise it only
   * with the reason in the commit.
   */
  readonly budget: number;
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
/** A question the shipped policy allows (`p, role:member, chat:*, subscribe, allow`). */
const MEMBER_SUBSCRIBE = { user: '56', roles: ['role:member'], action: 'subscribe', object: 'chat:room-42' };

/** The engine `root`'s code builds from the shipped policy (checked to allow MEMBER_SUBSCRIBE). */
async function shippedEngine(root: string) {
  const { buildEngine } = await load<typeof import('../src/policy/policy-store.js')>(root, 'policy/policy-store.ts');
  const engine = await buildEngine({ model: resolve(ROOT, 'policies/model.conf'), policy: resolve(ROOT, 'policies/policy.csv') });
  if (!engine.decide(MEMBER_SUBSCRIBE)) throw new Error('the shipped policy does not allow the probe query');
  return engine;
}
const load = <T>(root: string, path: string) => import(pathToFileURL(`${root}/src/${path}`).href) as Promise<T>;

/** Encoding an allow without a result, as the transport writes a cached subscribe's answer. */
function encodeProbe(transport: 'HTTP' | 'GRPC'): Probe {
  const decision = { kind: 'result', result: {} } as const;
  return {
    name: `encode${transport === 'HTTP' ? 'Http' : 'Grpc'}Decision (allow {})`,
    calls: 100_000,
    budget: 64,
    prepare: async (root) => {
      if (transport === 'HTTP') {
        const { encodeHttpDecision } = await load<typeof import('../src/transport/http/encode.js')>(root, 'transport/http/encode.ts');
        return () => encodeHttpDecision(decision, false);
      }
      const { encodeGrpcDecision } = await load<typeof import('../src/transport/grpc/encode.js')>(root, 'transport/grpc/encode.ts');
      return () => encodeGrpcDecision(decision, false);
    },
  };
}

/** The whole path of a request, and the functions on it that allocate per request. */
const probes: Probe[] = [
  {
    name: 'HTTP subscribe, cached decision (request)',
    calls: 20_000,
    budget: 7200,
    prepare: async (root) => {
      const driver = await startDriver(root, config);
      return () => driver.http('/centrifugo/subscribe', subscribeBody);
    },
  },
  {
    name: 'GRPC subscribe, cached decision (request)',
    calls: 20_000,
    budget: 4300,
    prepare: async (root) => {
      const driver = await startDriver(root, config);
      return () => driver.grpc('Subscribe', subscribeMessage);
    },
  },
  {
    name: 'HTTP connect, repeated RS256 token (request)',
    // Fewer calls: main's 13 kB per connect times 20,000 fills the 256 MB semi-space, and every window collected.
    budget: 11000,
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
    budget: 170,
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
    budget: 180,
    prepare: async (root) => {
      const { cacheKey } = await load<typeof import('../src/policy/decider.js')>(root, 'policy/decider.ts');
      return () => cacheKey('0123456789ab', MEMBER_SUBSCRIBE);
    },
  },
  {
    name: 'decodeRequest (subscribe, HTTP fields)',
    calls: 100_000,
    budget: 320,
    prepare: async (root) => {
      const { decodeRequest } = await load<typeof import('../src/core/decode.js')>(root, 'core/decode.ts');
      const fields = JSON.parse(subscribeBody.toString()) as Record<string, unknown>;
      const headers = new Map<string, string>();
      return () => decodeRequest('subscribe', { fields, meta: fields.meta as never, headers });
    },
  },
  encodeProbe('HTTP'),
  {
    name: 'PolicyDecider.decideNow (in-process hit, subscribe)',
    calls: 100_000,
    budget: 600,
    prepare: async (root) => {
      const { PolicyDecider } = await load<typeof import('../src/policy/decider.js')>(root, 'policy/decider.ts');
      const { TieredDecisionCache } = await load<typeof import('../src/cache/decision-cache.js')>(root, 'cache/decision-cache.ts');
      const engine = await shippedEngine(root);
      const decider = new PolicyDecider({ current: () => engine }, new TieredDecisionCache({ maxEntries: 100, ttlMs: 3_600_000 }), { mode: 'enforce' });
      await decider.decide(MEMBER_SUBSCRIBE);
      if (decider.decideNow(MEMBER_SUBSCRIBE)?.allowed !== true) throw new Error('no allow from memory for the probe query');
      return () => decider.decideNow(MEMBER_SUBSCRIBE);
    },
  },
  {
    name: 'IndexedEngine.decide (uncached, shipped policy, subscribe)',
    calls: 100_000,
    budget: 620,
    prepare: async (root) => {
      const engine = await shippedEngine(root);
      return () => engine.decide(MEMBER_SUBSCRIBE);
    },
  },
  encodeProbe('GRPC'),
];

const only = process.env.ALLOC_ONLY ?? '';
const budgetScale = Number(process.env.ALLOC_BUDGET_SCALE ?? '1');
const chosen = probes.filter((p) => p.name.includes(only));
if (chosen.length === 0) throw new Error(`ALLOC_ONLY=${only} matches no probe`);

const builds = [{ name: 'this', root: ROOT }, ...(process.env.ALLOC_BASE ? [{ name: 'base', root: resolve(process.env.ALLOC_BASE) }] : [])];
const results = new Map<string, number[]>();
for (const probe of chosen) {
  const row: number[] = [];
  for (const build of builds) row.push(await bytesPerCall(await probe.prepare(build.root), probe.calls));
  results.set(probe.name, row);
}

console.log(`Heap bytes allocated per call (one call at a time; ${builds.map((b) => `${b.name}: ${b.root}`).join(', ')})\n`);
console.log(`| function or request | ${builds.map((b) => b.name).join(' | ')} | budget (this) |`);
console.log(`|---|${builds.map(() => '---:').join('|')}|---:|`);
const over: string[] = [];
for (const probe of chosen) {
  const row = results.get(probe.name) as number[];
  const mine = row[0] as number;
  const budget = probe.budget * budgetScale;
  if (mine > budget) over.push(`${probe.name}: ${mine.toFixed(0)} B per call, budget ${budget} B`);
  console.log(`| ${probe.name} | ${row.map((b) => b.toFixed(0)).join(' | ')} | ${budget}${mine > budget ? ' ✗ over' : ''} |`);
}
if (over.length > 0) {
  console.error(`\nOver the allocation budget (a change added allocations on the hot path; see the budget's comment):\n  ${over.join('\n  ')}`);
  process.exit(1);
}
process.exit(0);
