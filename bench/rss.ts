/**
 * Memory of the served process (`node --import tsx bench/rss.ts`, also a section of
 * `npm run bench`): `bin/centrifugo-policy-proxy.js serve` on the compiled dist/, as operators
 * run it, with the bench's production-shaped config and the 100,000-rule bench policy, then
 * subscribes from distinct users to distinct channels until the decision cache is past its
 * bound (`cache.max_entries`). Read from /proc (VmRSS, VmHWM) without forcing a GC: idle, after
 * the load, and the peak. Goal: ≤ 200 MiB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { freePort } from '../test/helpers/ports.js';
import { benchPolicy, writePolicyFiles } from './policy.js';
import { buildFixtures, CALLER_HEADERS, REDIS_PREFIX, ROOT, serviceConfig } from './lib/fixtures.js';
import { mib, memoryOf, type Memory } from './lib/proc-memory.js';
import { CAN_PIN, pinSelfToLoadCore, SERVER_CORE, stopChild, TASKSET } from './lib/processes.js';
import { benchRedis } from './lib/redis.js';
import type { Goal } from './lib/report.js';

const GOAL_MIB = 200;
/** cache.max_entries' default, which the bench config keeps. */
const CACHE_BOUND = 100_000;
const IN_FLIGHT = 64;
/** How long the served process may take to load the policy and listen. */
const READY_TIMEOUT_S = Number(process.env.BENCH_READY_TIMEOUT ?? 600);

export async function runRssBench(): Promise<{ lines: string[]; goals: Goal[] }> {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const policy = writePolicyFiles(benchPolicy(12, 100_000));
  const f = buildFixtures(1, 1);
  const redis = await benchRedis(REDIS_PREFIX);
  const config = serviceConfig(f, 'service-rss', { policyDir: policy.dir, publicKeyFile: f.publicKeyFile, ...(redis ? { redisUrl: redis.url } : {}) });
  const port = await freePort();
  const argv = [process.execPath, 'bin/centrifugo-policy-proxy.js', 'serve', '--config', config];
  const [command, ...args] = CAN_PIN ? [TASKSET, '-c', SERVER_CORE, ...argv] : argv;
  const child = spawn(command as string, args, { cwd: ROOT, env: { ...process.env, HTTP_PORT: String(port), GRPC_PORT: '0', BENCH_INSTANCE: String(process.pid) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = child.pid as number;
  const url = `http://127.0.0.1:${port}`;
  try {
    const spawned = performance.now();
    await waitReady(url);
    const readySeconds = (performance.now() - spawned) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const idle = memoryOf(pid);
    const load = await distinctSubscribes(url, Math.round(CACHE_BOUND * 1.1));
    const after = memoryOf(pid);
    return report(idle, after, load, readySeconds, redis?.kind);
  } finally {
    await stopChild(child);
    await redis?.stop();
    rmSync(policy.dir, { recursive: true, force: true });
  }
}

interface SubscribeLoad {
  readonly requests: number;
  readonly allowed: number;
  readonly wrong: number;
  readonly seconds: number;
}

/** `count` subscribes, each from its own user to its own channel, IN_FLIGHT at a time; every answer must be a decision. */
async function distinctSubscribes(url: string, count: number): Promise<SubscribeLoad> {
  const pool = new Pool(url, { connections: IN_FLIGHT });
  let next = 0;
  let allowed = 0;
  let wrong = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const body = JSON.stringify({ client: `c${n}`, transport: 'websocket', protocol: 'json', encoding: 'json', user: `u${n}`, channel: `ns${n % 50}:room${n}`, meta: { roles: [`role:r${n % 5}`] } });
      const res = await pool.request({ method: 'POST', path: '/centrifugo/subscribe', body, headers: { 'content-type': 'application/json', ...CALLER_HEADERS } });
      const text = await res.body.text();
      if (res.statusCode === 200 && text === '{"result":{}}') allowed++;
      else if (!(res.statusCode === 200 && text.startsWith('{"error":{"code":'))) wrong++;
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    await pool.close();
  }
  return { requests: count, allowed, wrong, seconds: (performance.now() - started) / 1000 };
}

function report(idle: Memory, after: Memory, load: SubscribeLoad, readySeconds: number, redis: string | undefined): { lines: string[]; goals: Goal[] } {
  const lines = [
    `\`bin/centrifugo-policy-proxy.js serve\` (compiled dist/) pinned to the server core, the bench config (caller secret, claims.info, auth.channels, ${redis ? `Redis: ${redis}` : 'no Redis: none answered'}), the 100,000-rule bench policy; then ${load.requests.toLocaleString('en')} subscribes, each from a distinct user to a distinct channel (${IN_FLIGHT} in flight, ${(load.requests / load.seconds).toFixed(0)}/s, ${((100 * load.allowed) / load.requests).toFixed(1)}% allowed, ${load.wrong} answers that were not a decision), past the decision cache's bound of ${CACHE_BOUND.toLocaleString('en')} entries. /proc/<pid>/status, no forced GC; 1 MiB = 2^20 bytes.`,
    '',
    '| when | RSS (VmRSS) | peak so far (VmHWM) |',
    '|---|---:|---:|',
    `| idle, 2 s after ready (policy loaded) | ${mib(idle.rssMiB)} | ${mib(idle.peakMiB)} |`,
    `| after the load | ${mib(after.rssMiB)} | ${mib(after.peakMiB)} |`,
    '',
    `From spawn to ready (\`/readyz\`): ${readySeconds.toFixed(1)} s.`,
  ];
  const met = load.wrong > 0 ? undefined : after.peakMiB <= GOAL_MIB;
  return {
    lines,
    goals: [{ goal: `RSS ≤ ${GOAL_MIB} MiB, served process, 100k rules + a full decision cache (basis: peak VmHWM)`, measured: `peak ${mib(after.peakMiB)}; ${mib(after.rssMiB)} after the load, ${mib(idle.rssMiB)} idle${load.wrong > 0 ? `; ${load.wrong} wrong answers` : ''}`, met }],
  };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < READY_TIMEOUT_S * 10; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the served process did not become ready within ${READY_TIMEOUT_S} s (BENCH_READY_TIMEOUT)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  pinSelfToLoadCore();
  const { lines, goals } = await runRssBench();
  for (const line of lines) console.log(line);
  for (const g of goals) console.log(`${g.goal}: ${g.measured}: ${g.met === undefined ? 'not measured' : g.met ? 'met' : 'missed'}`);
}
