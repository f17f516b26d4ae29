/**
 * The indexed engine of this tree (A) against another checkout's (B, `BASE=/path/to/checkout`)
 * on the same generated policy (bench/policy.ts's workload, 100,000 rules unless RULES=n), so a
 * change is judged in one run rather than across two noisy ones:
 *   BASE=/work/main node --expose-gc --import tsx bench/policy-ab.ts
 * Decisions are timed one by one, the engines alternating every block of requests and which one
 * goes first alternating every round; it prints each engine's p50/p99 over all rounds, the spread
 * of the per-round p99, the engine's heap (heapUsed after gc, around its build), build time, and
 * how many answers differ (must be 0).
 */
import { resolve } from 'node:path';
import type { PolicyEngine, PolicyQuery } from '../src/policy/engine.js';
import type { PolicySource } from '../src/policy/policy-source.js';
import { quantile, spread } from './lib/stats.js';
import { benchPolicy } from './policy.js';

type Build = (source: PolicySource) => Promise<PolicyEngine>;

const RULES = Number(process.env.RULES ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const REQUESTS = 20_000;
const BLOCK = 500;

async function loadBuild(root: string): Promise<Build> {
  const module = (await import(resolve(root, 'src/policy/indexed-engine.ts'))) as { IndexedEngine: { build: Build } };
  return (source) => module.IndexedEngine.build(source);
}

const gc = (globalThis as { gc?: () => void }).gc;
const heapMiB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

async function measureBuild(build: Build, source: PolicySource): Promise<{ engine: PolicyEngine; ms: number; heap: number }> {
  const before = heapMiB();
  const start = performance.now();
  const engine = await build(source);
  const ms = performance.now() - start;
  return { engine, ms, heap: heapMiB() - before };
}

function timeBlock(engine: PolicyEngine, requests: readonly PolicyQuery[], into: number[]): void {
  for (const query of requests) {
    const start = performance.now();
    engine.decide(query);
    into.push((performance.now() - start) * 1000);
  }
}

async function main(): Promise<void> {
  const base = process.env.BASE;
  if (!base) throw new Error('set BASE=/path/to/other/checkout');
  if (!gc) console.warn('run with --expose-gc for heap figures');
  const generated = benchPolicy(11, RULES);
  const requests = generated.requests(REQUESTS);
  const engines = [
    { name: 'A (this tree)', ...(await measureBuild(await loadBuild(resolve(import.meta.dirname, '..')), generated.source)) },
    { name: `B (${base})`, ...(await measureBuild(await loadBuild(base), generated.source)) },
  ];
  const differ = requests.filter((q) => engines[0]?.engine.decide(q) !== engines[1]?.engine.decide(q)).length;
  const all = engines.map(() => [] as number[]);
  const roundP99 = engines.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    const perRound = engines.map(() => [] as number[]);
    for (let from = 0; from < requests.length; from += BLOCK) {
      const block = requests.slice(from, from + BLOCK);
      for (let k = 0; k < engines.length; k++) {
        const e = (k + round) % engines.length;
        timeBlock((engines[e] as { engine: PolicyEngine }).engine, block, perRound[e] as number[]);
      }
    }
    perRound.forEach((times, e) => {
      all[e]?.push(...times);
      roundP99[e]?.push(quantile(times, 0.99));
    });
  }
  console.log(`${RULES.toLocaleString('en')} rules, ${REQUESTS.toLocaleString('en')} requests × ${ROUNDS} rounds, answers differing: ${differ}`);
  console.log('| engine | p50 µs | p99 µs | per-round p99 µs | heap MiB | build ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  engines.forEach((e, i) => {
    const times = all[i] as number[];
    console.log(`| ${e.name} | ${quantile(times, 0.5).toFixed(2)} | ${quantile(times, 0.99).toFixed(1)} | ${spread(roundP99[i] as number[], 1)} | ${e.heap.toFixed(1)} | ${e.ms.toFixed(0)} |`);
  });
}

await main();
