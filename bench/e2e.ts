/**
 * End to end through the real Centrifugo (`BENCH_ONLY=e2e npm run bench`, or alone:
 * `node --import tsx bench/e2e.ts`): WebSocket sessions (open, connect with a token, subscribe
 * to chat:room-N, close) per second and their latency, side by side in one run, for
 *   (a) Centrifugo verifying its own tokens, no proxy: the ceiling;
 *   (b) Centrifugo proxying to our service over HTTP, (c) over GRPC;
 *   (d) Centrifugo proxying to the naive peer over HTTP.
 * Centrifugo and the proxy share the server core; the load generator (this process) has the
 * other. Each round starts every target afresh, warms it, then runs open-loop rows at fixed
 * rates and a closed-loop row at a fixed concurrency; rounds are interleaved (the target order
 * rotates). E2E_ROUNDS (3), E2E_RATES (250,500,1000), E2E_CONCURRENCY (32), E2E_TARGETS (a,b,c,d),
 * E2E_REDIS=off (the service without Redis), E2E_CLIENT (raw: a minimal WebSocket client over node:net; ws: the `ws` package, as a cross-check).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { centrifugoBinary } from '../test/e2e/helpers/centrifugo.js';
import { cacheCell, withCacheCheck } from './lib/cache-share.js';
import { cpuTable, e2eReport, MAX_ROW, p99Verdicts, ratioVerdicts, rowFailed, type Measured } from './lib/e2e-report.js';
import { e2eTargets, type Running, type Target } from './lib/e2e-targets.js';
import { signE2eTokens } from './lib/e2e-tokens.js';
import { cpuSeconds } from './lib/proc-cpu.js';
import { pinSelfToLoadCore } from './lib/processes.js';
import { benchRedis } from './lib/redis.js';
import { closedLoop, openLoop, type LoadFigures, type Session } from './lib/ws-load.js';
import { connectAndSubscribe } from './lib/ws-session.js';
import { rawConnectAndSubscribe } from './lib/raw-ws-session.js';

const SESSION_TIMEOUT_MS = 5000;
const WARM_SESSIONS = 400;
const THROUGHPUT_GOAL = 0.7;
const P99_GOAL_MS = 50;

const client = process.env.E2E_CLIENT === 'ws' ? connectAndSubscribe : rawConnectAndSubscribe;
const list = (value: string | undefined, fallback: string) => (value ?? fallback).split(',').filter(Boolean);

export async function runE2eBench({ seconds }: { seconds: number }): Promise<{ lines: string[]; failures: string[] }> {
  if (!centrifugoBinary()) return { lines: ['not available: no Centrifugo binary; install it with: bash scripts/install-centrifugo.sh'], failures: [] };
  const rounds = Number(process.env.E2E_ROUNDS ?? 3);
  const rates = list(process.env.E2E_RATES, '250,500,1000').map(Number);
  const concurrency = Number(process.env.E2E_CONCURRENCY ?? 32);
  const wanted = new Set(list(process.env.E2E_TARGETS, 'a,b,c,d'));
  // The closed loop stops at whichever comes first: `seconds`, or this many sessions.
  const maxSessions = 3000 * seconds;
  const perProcess = WARM_SESSIONS + rates.reduce((sum, r) => sum + r * seconds, 0) + maxSessions;

  const dir = mkdtempSync(join(tmpdir(), 'cpp-bench-e2e-'));
  console.error(`e2e: signing 2 × ${perProcess} RS256 tokens…`);
  const tokens = signE2eTokens(dir, perProcess);

  const redis = process.env.E2E_REDIS === 'off' ? undefined : await benchRedis('cpp-bench-e2e:');
  const all: Measured[] = [];
  try {
    const targets = e2eTargets({ dir, tokens, redisUrl: redis?.url }).filter((t) => wanted.has(t.key));
    for (let round = 0; round < rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
      for (const target of order) all.push(...(await measureTarget(target, round, rates, seconds, concurrency, maxSessions, tokens[target.tokens])));
    }
  } finally {
    await redis?.stop();
  }

  const keys = [...new Set(all.map((m) => m.key))].sort();
  const rows = [...rates.map(String), MAX_ROW];
  const lines = [
    `${rounds} interleaved rounds; per target and round: a fresh Centrifugo (+ proxy), ${WARM_SESSIONS} warm-up sessions, then open-loop rows of ${seconds} s at ${rates.join(', ')} sessions/s and a closed-loop row (${concurrency} in flight, ${seconds} s or ${maxSessions} sessions). A session (${process.env.E2E_CLIENT === 'ws' ? 'the `ws` client' : 'a minimal raw WebSocket client'}) = WebSocket open, connect (distinct user and token), subscribe to chat:room-N, close; latency from the moment it was due (open loop) or started (closed loop) to the subscribe reply. ${redis ? `Service with Redis (${redis.kind}).` : 'Service without Redis.'}`,
    '',
    ...e2eReport(all, rows, keys),
    ...ratioVerdicts(all, keys.filter((k) => k === 'b' || k === 'c'), THROUGHPUT_GOAL),
    ...p99Verdicts(all, keys, String(rates.includes(1000) ? 1000 : rates[rates.length - 1]), P99_GOAL_MS),
    ...cpuTable(all, keys, [String(rates[rates.length - 1]), MAX_ROW]),
    ...failureReasons(all),
  ];
  const describe = (m: Measured) => `e2e round ${m.round + 1}, ${m.target}, ${m.row}: ${m.figures.errors} errors; cache ${cacheCell(m.cache)}`;
  // A rate past a target's capacity fails sessions: that is what the ladder measures, so such a
  // row counts for nothing but does not fail the bench. A wrong cache share means the workload
  // was not what the row says: that fails it.
  const overloaded = all.filter((m) => rowFailed(m) && m.cache?.failure === undefined);
  if (overloaded.length > 0) lines.push('', 'Rows with failed sessions (past the target\'s capacity; they count for nothing above):', '', ...overloaded.map((m) => `- ${describe(m)}`));
  const failures = all.filter((m) => m.cache?.failure !== undefined).map(describe);
  return { lines, failures };
}

async function measureTarget(target: Target, round: number, rates: number[], seconds: number, concurrency: number, maxSessions: number, pool: readonly string[]): Promise<Measured[]> {
  console.error(`e2e round ${round + 1}: ${target.name}`);
  const running = await target.start();
  const results: Measured[] = [];
  let cursor = 0;
  // Each session takes the next user: a distinct token, a cold token cache for it.
  const sessionFrom = (base: number): Session => (i) => {
    const user = base + i;
    const token = pool[user] as string;
    const connect = target.tokens === 'centrifugo' ? { token } : { data: { token } };
    return client(running.wsUrl, connect, `chat:room-${user % 1000}`, SESSION_TIMEOUT_MS);
  };
  const measure = async (row: string, load: (session: Session) => Promise<LoadFigures>) => {
    // CPU over the sessions alone: the cache check's waits for a settled service stay outside.
    let before = snapshot(running);
    let after = before;
    const { cache, ...figures } = await withCacheCheck(running.metricsPort, target.cache, async () => {
      before = snapshot(running);
      const loaded = await load(sessionFrom(cursor));
      after = snapshot(running);
      return loaded;
    });
    cursor += figures.sessions;
    const cpu = {
      centrifugo: after.centrifugo - before.centrifugo,
      ...(running.proxyPid !== undefined ? { proxy: after.proxy - before.proxy } : {}),
      client: after.client - before.client,
    };
    const measured: Measured = { target: target.name, key: target.key, row, round, figures, cpu, ...(cache ? { cache } : {}) };
    results.push(measured);
    console.error(`  ${row}: ${figures.achieved.toFixed(0)}/s, p50 ${figures.p50ms.toFixed(1)} ms, p99 ${figures.p99ms.toFixed(1)} ms, errors ${figures.errors}, cache ${cacheCell(cache)}${rowFailed(measured) ? ' — FAILED' : ''}`);
  };
  try {
    const warm = await closedLoop(16, WARM_SESSIONS, 5, sessionFrom(cursor));
    cursor += warm.sessions;
    if (warm.errors > 0) console.error(`  warm-up: ${warm.errors} errors (${[...warm.reasons.keys()].slice(0, 3).join('; ')})`);
    for (const rate of rates) await measure(String(rate), (s) => openLoop(rate, rate * seconds, s));
    await measure(MAX_ROW, (s) => closedLoop(concurrency, Math.min(maxSessions, pool.length - cursor), seconds, s));
  } finally {
    await running.stop();
  }
  return results;
}

function snapshot(running: Running) {
  const self = process.cpuUsage();
  return {
    centrifugo: cpuSeconds(running.centrifugoPid),
    proxy: running.proxyPid !== undefined ? cpuSeconds(running.proxyPid) : 0,
    client: (self.user + self.system) / 1e6,
  };
}

function failureReasons(all: Measured[]): string[] {
  const byTarget = new Map<string, Map<string, number>>();
  for (const m of all) {
    const reasons = byTarget.get(m.target) ?? new Map<string, number>();
    for (const [reason, n] of m.figures.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + n);
    byTarget.set(m.target, reasons);
  }
  const lines: string[] = [];
  for (const [target, reasons] of byTarget) {
    if (reasons.size === 0) continue;
    const top = [...reasons].sort((x, y) => y[1] - x[1]).slice(0, 4);
    lines.push(`- ${target}: ${top.map(([r, n]) => `${n}× ${r}`).join('; ')}`);
  }
  return lines.length > 0 ? ['', 'Failures seen:', '', ...lines] : [];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  pinSelfToLoadCore();
  const { lines, failures } = await runE2eBench({ seconds: Number(process.env.BENCH_SECONDS ?? 3) });
  for (const line of [...lines, ...failures.map((f) => `FAILED: ${f}`)]) console.log(line);
  if (failures.length > 0) process.exitCode = 1;
  mkdirSync('.bench-out', { recursive: true });
  writeFileSync('.bench-out/e2e.md', `${lines.join('\n')}\n`);
}
