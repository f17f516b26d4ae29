/**
 * Policy engine micro-benchmarks (`node --import tsx bench/policy.ts`, also a section of
 * `npm run bench`): the indexed engine against plain casbin on the same generated rules and
 * requests, load time, latency while a 100,000-rule policy reloads, memory, and the full-count
 * differential check (100,000 requests, both engines must agree on every one).
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CasbinEngine } from '../src/policy/casbin-engine.js';
import type { PolicyEngine, PolicyQuery } from '../src/policy/engine.js';
import { IndexedEngine } from '../src/policy/indexed-engine.js';
import { buildEngine } from '../src/policy/policy-store.js';
import { DEFAULT_MODEL, generatePolicy } from '../test/helpers/policy-generator.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const percentile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))] ?? 0;

/** Median µs per decision, each request timed on its own. */
function timeDecisions(engine: PolicyEngine, requests: readonly PolicyQuery[]): number {
  const times: number[] = [];
  for (const query of requests) {
    const start = performance.now();
    engine.decide(query);
    times.push((performance.now() - start) * 1000);
  }
  return median(times);
}

const us = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)} ms` : `${v.toFixed(1)} µs`);

/** Event-loop latency of a 1 ms periodic task that makes one decision, optionally while `during` runs. */
async function probeLatency(engine: PolicyEngine, requests: readonly PolicyQuery[], during: () => Promise<unknown>): Promise<{ p99: number; samples: number }> {
  const delays: number[] = [];
  let stop = false;
  let i = 0;
  const probe = new Promise<void>((resolve) => {
    const tick = (due: number) => {
      const started = performance.now();
      engine.decide(requests[i++ % requests.length] as PolicyQuery);
      delays.push(performance.now() - due);
      if (stop) return resolve();
      const next = started + 1;
      setTimeout(() => tick(next), 1);
    };
    tick(performance.now());
  });
  await during();
  stop = true;
  await probe;
  return { p99: percentile(delays, 0.99), samples: delays.length };
}

/**
 * Runs one measurement in a fresh process, so neither the heap of the engines built above nor
 * their garbage collection pauses distort it.
 */
function inChild<T>(mode: string, paths: { model: string; policy: string }): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [mode, paths.model, paths.policy], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`${mode} exited ${code}`))));
  });
}

/** The RSS measurement on the compiled service (bench/lib/rss-child.mjs); builds dist/ when it is stale. */
function deployedRss(paths: { model: string; policy: string }): Promise<{ before: number; after: number }> {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./lib/rss-child.mjs', import.meta.url)), [paths.model, paths.policy], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve(m as { before: number; after: number }));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`rss-child exited ${code}`))));
  });
}

/** The load time, and a decision task's p99 without and during a reload of the same files. */
async function reloadChild(model: string, policy: string): Promise<void> {
  const start = performance.now();
  const live = await buildEngine({ model, policy });
  const loadMs = performance.now() - start;
  const requests = Array.from({ length: 1000 }, (_, n) => ({ user: `user-${n}`, roles: ['role:r1'], action: 'subscribe', object: `ns${n % 50}:room${n % 7}` }));
  const quiet = await probeLatency(live, requests, () => new Promise((r) => setTimeout(r, 1500)));
  const reloading = await probeLatency(live, requests, () => buildEngine({ model, policy }));
  process.send?.({ loadMs, quiet: quiet.p99, reloading: reloading.p99 });
  process.exit(0);
}

export async function runPolicyBench(options: { seconds?: number; fullDifferential?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  out.push('| rules | indexed build | casbin build | indexed decision (median) | casbin decision (median) | × faster |');
  out.push('|---:|---:|---:|---:|---:|---:|');
  for (const ruleCount of [1_000, 10_000, 100_000]) {
    const generated = generatePolicy(11, ruleCount);
    const requests = generated.requests(20_000);
    let start = performance.now();
    const indexed = await IndexedEngine.build(generated.source);
    const indexedBuild = performance.now() - start;
    start = performance.now();
    const casbin = await CasbinEngine.build(generated.source);
    const casbinBuild = performance.now() - start;
    const fast = timeDecisions(indexed, requests);
    // casbin scans every rule: a handful of requests is enough for its median.
    const slow = timeDecisions(casbin, requests.slice(0, ruleCount >= 100_000 ? 15 : ruleCount >= 10_000 ? 60 : 400));
    out.push(`| ${ruleCount.toLocaleString('en')} | ${us(indexedBuild * 1000)} | ${us(casbinBuild * 1000)} | ${us(fast)} | ${us(slow)} | ${Math.round(slow / fast).toLocaleString('en')}× |`);
  }

  // A reload as the service does it: read and parse the files, then build the index.
  const generated = generatePolicy(12, 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'cpp-policy-bench-'));
  writeFileSync(join(dir, 'model.conf'), DEFAULT_MODEL);
  writeFileSync(join(dir, 'policy.csv'), generated.source.rules.map((r) => [r.ptype, ...r.values].join(', ')).join('\n'));
  const paths = { model: join(dir, 'model.conf'), policy: join(dir, 'policy.csv') };
  const reload = await inChild<{ loadMs: number; quiet: number; reloading: number }>('--reload-child', paths);
  out.push('');
  out.push(`Loading 100,000 rules from a CSV file (read, parse, validate, index): ${(reload.loadMs / 1000).toFixed(2)} s (goal ≤ 2 s).`);
  out.push(
    `p99 of a 1 ms periodic decision task: ${reload.quiet.toFixed(2)} ms without a reload, ${reload.reloading.toFixed(2)} ms while 100,000 rules reload (${(reload.reloading / reload.quiet).toFixed(2)}×; goal ≤ 2×).`,
  );
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
  const rss = await deployedRss(paths);
  out.push(
    `RSS of the service (compiled dist/, as \`npm start\` runs it) holding 100,000 rules (indexed) and 100,000 cached decisions: ${mb(rss.after)} (goal ≤ 200 MB); ${mb(rss.before)} of it before the policy (Node and the service's modules).`,
  );

  if (options.fullDifferential ?? true) {
    // 100,000 seeded requests over three generated policies, small to thousands of rules; casbin's
    // scan makes the large ones slow, so they get fewer of the requests.
    let disagreements = 0;
    let total = 0;
    const parts: string[] = [];
    for (const [seed, ruleCount, count] of [
      [13, 150, 60_000],
      [14, 2_000, 25_000],
      [15, 5_000, 15_000],
    ] as const) {
      const diff = generatePolicy(seed, ruleCount);
      const [a, b] = await Promise.all([IndexedEngine.build(diff.source), CasbinEngine.build(diff.source)]);
      for (const query of diff.requests(count)) if (a.decide(query) !== b.decide(query)) disagreements++;
      total += count;
      parts.push(`${count.toLocaleString('en')} on ${ruleCount.toLocaleString('en')} rules`);
    }
    out.push(`Differential check, indexed vs casbin \`enforce\`: ${total.toLocaleString('en')} seeded requests (${parts.join(', ')}): ${disagreements} disagreements.`);
  }
  return out;
}

if (process.argv[2] === '--reload-child') await reloadChild(process.argv[3] as string, process.argv[4] as string);
else if (import.meta.url === `file://${process.argv[1]}`) for (const line of await runPolicyBench()) console.log(line);
