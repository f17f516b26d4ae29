/**
 * CPU µs per request of two builds of the service, A/B interleaved in one run, on the hot path
 * from request bytes to answer bytes (bench/hot-path-driver.ts: no sockets, so neither the
 * kernel nor other processes' load is in the figure): the cached HTTP subscribe, the GRPC
 * subscribe and connect with a repeated RS256 token, 32 requests in flight.
 *
 *   AB_BASE=/path/to/baseline/checkout node --import tsx bench/hot-path-cpu.ts
 *
 * AB_BASE is a checkout of the baseline (`git archive main | tar -x -C dir`, plus a link to a
 * node_modules); the candidate is this checkout (AB_THIS to change it). AB_ROUNDS (default 7),
 * AB_REQUESTS (default 100000 per measurement, after 20000 to warm up) and
 * AB_ONLY=http,grpc,publish,sub_refresh,connect pick the run. Every round runs each build in a fresh process,
 * alternating which goes first; each process reports its cheapest of 5 windows. The table shows
 * medians and spread over rounds, and the median of each round's this/base ratio.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import protobuf from 'protobufjs';
import { buildFixtures, ROOT, serviceConfig } from './lib/fixtures.js';
import { PROTO_FILE } from '../src/transport/grpc/proto.js';
import { startDriver, type Driver } from './hot-path-driver.js';
import { readFileSync } from 'node:fs';

interface Scenario {
  readonly key: string;
  readonly name: string;
  /** One request; resolves with the answer as text (checked against the first). */
  run(driver: Driver): Promise<string>;
  readonly expect: (answer: string) => boolean;
}

function scenarios(bodies: { subscribe: string; connect: string; publish: string; subRefresh: string }, subscribeMessage: Buffer): Scenario[] {
  const subscribe = readFileSync(bodies.subscribe);
  const publish = readFileSync(bodies.publish);
  const subRefresh = readFileSync(bodies.subRefresh);
  const connect = readFileSync(bodies.connect);
  return [
    {
      key: 'http',
      name: 'HTTP subscribe, cached decision',
      run: async (d) => JSON.stringify(await d.http('/centrifugo/subscribe', subscribe)),
      expect: (a) => a === JSON.stringify({ status: 200, body: '{"result":{}}' }),
    },
    {
      key: 'grpc',
      name: 'GRPC subscribe, cached decision',
      run: async (d) => (await d.grpc('Subscribe', subscribeMessage)).toString('hex'),
      // SubscribeResponse{result: SubscribeResult{}}: field 1, length 0.
      expect: (a) => a === '0a00',
    },
    {
      key: 'publish',
      name: 'HTTP publish, cached decision',
      run: async (d) => JSON.stringify(await d.http('/centrifugo/publish', publish)),
      expect: (a) => a === JSON.stringify({ status: 200, body: '{"result":{}}' }),
    },
    {
      key: 'sub_refresh',
      name: 'HTTP sub_refresh, cached decision',
      run: async (d) => JSON.stringify(await d.http('/centrifugo/sub_refresh', subRefresh)),
      // An extension: `{"result":{"expire_at":<now + lifetime>}}` inside the status object.
      expect: (a) => a.startsWith(JSON.stringify({ status: 200, body: '{"result":{"expire_at":' }).slice(0, -2)),
    },
    {
      key: 'connect',
      name: 'HTTP connect, repeated RS256 token',
      run: async (d) => JSON.stringify(await d.http('/centrifugo/connect', connect)),
      // The answer as JSON text inside the status object: `{"status":200,"body":"{\"result\":{\"user\":\"56\"…`.
      expect: (a) => a.startsWith(JSON.stringify({ status: 200, body: '{"result":{"user":"56"' }).slice(0, -2)),
    },
  ];
}

const IN_FLIGHT = 32;
const WINDOWS = 5;

async function child(): Promise<void> {
  const input = JSON.parse(process.env.HOT_PATH_CHILD as string) as { root: string; config: string; scenario: string; requests: number; bodies: { subscribe: string; connect: string; publish: string; subRefresh: string }; message: string };
  const scenario = scenarios(input.bodies, Buffer.from(input.message, 'hex')).find((s) => s.key === input.scenario) as Scenario;
  const driver = await startDriver(input.root, input.config);
  let wrong = 0;
  const batch = async () => {
    const answers = await Promise.all(Array.from({ length: IN_FLIGHT }, () => scenario.run(driver)));
    for (const a of answers) if (!scenario.expect(a)) wrong += 1;
  };
  for (let i = 0; i < 20_000; i += IN_FLIGHT) await batch();
  // Interference from other processes only ever adds CPU time (caches, frequency): of several
  // windows, the cheapest is the closest to this build's own cost.
  let best = Infinity;
  for (let w = 0; w < WINDOWS; w++) {
    const before = process.cpuUsage();
    let done = 0;
    for (; done < input.requests / WINDOWS; done += IN_FLIGHT) await batch();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / done);
  }
  await driver.stop();
  process.stdout.write(`${JSON.stringify({ us: best, wrong })}\n`);
  process.exit(0);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function parent(): Promise<void> {
  if (!process.env.AB_BASE) {
    console.error('set AB_BASE to the baseline checkout');
    process.exit(2);
  }
  const builds = [
    { name: 'base', root: resolve(process.env.AB_BASE) },
    { name: 'this', root: resolve(process.env.AB_THIS ?? ROOT) },
  ];
  const rounds = Number(process.env.AB_ROUNDS ?? 7);
  const requests = Number(process.env.AB_REQUESTS ?? 100_000);
  const only = new Set((process.env.AB_ONLY ?? 'http,grpc,connect').split(','));
  const f = buildFixtures(1, 1);
  const config = serviceConfig(f, 'service-ab', { policyDir: f.policyDirs.shipped, publicKeyFile: f.publicKeyFile });
  const Subscribe = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true }).lookupType('centrifugal.centrifugo.proxy.SubscribeRequest');
  const message = Buffer.from(
    Subscribe.encode({ client: '9336a229-2400-4ebc-8c50-0a643d22e8a0', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:room-42', meta: Buffer.from('{"roles":["role:member"]}') }).finish(),
  ).toString('hex');
  const bodies = { subscribe: f.bodies.subscribe, connect: f.bodies.connectRepeated, publish: f.bodies.publish, subRefresh: f.bodies.subRefresh };
  console.log(`CPU µs per request, ${rounds} rounds of ${requests} requests per build (${IN_FLIGHT} in flight), A/B interleaved\n`);
  console.log('| scenario | base median (min–max) | this median (min–max) | change of medians | median of paired ratios (min–max) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const scenario of scenarios(bodies, Buffer.alloc(0)).filter((s) => only.has(s.key))) {
    const samples = new Map<string, number[]>(builds.map((b) => [b.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        const env = { ...process.env, HOT_PATH_CHILD: JSON.stringify({ root: build.root, config, scenario: scenario.key, requests, bodies, message }) };
        const out = execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname], { env, cwd: build.root, encoding: 'utf8' });
        const { us, wrong } = JSON.parse(out.trim().split('\n').pop() as string) as { us: number; wrong: number };
        if (wrong > 0) throw new Error(`${build.name} ${scenario.key}: ${wrong} wrong answers`);
        samples.get(build.name)?.push(us);
        console.error(`  ${scenario.key} round ${round + 1} ${build.name}: ${us.toFixed(2)} µs`);
      }
    }
    const cell = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    const base = samples.get('base') as number[];
    const mine = samples.get('this') as number[];
    const change = (median(mine) / median(base) - 1) * 100;
    // Each round's two builds ran back to back, under the same load: their ratio is the steadier figure.
    const ratios = mine.map((us, i) => us / (base[i] as number));
    const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
    console.log(`| ${scenario.name} | ${cell(base)} | ${cell(mine)} | ${pct(1 + change / 100)} | ${pct(median(ratios))} (${pct(Math.min(...ratios))}…${pct(Math.max(...ratios))}) |`);
  }
}

await (process.env.HOT_PATH_CHILD ? child() : parent());
