/**
 * Where a 100,000-rule reload holds the event loop (`node --import tsx bench/reload-phases.ts`):
 * each phase of buildTestedEngine run on its own, as the service runs it, with a ticker that
 * re-arms itself on every event-loop turn. A phase's longest block is the longest gap between
 * two turns while it ran: how long a request that arrived then would have waited. It is given
 * in wall time and in the process's CPU time over the same gap: on a shared machine the wall
 * time also holds the scheduler's pauses, which no slicing prevents. GC pauses are listed apart
 * (perf_hooks 'gc' entries): they stall requests too, but the code does not decide them. The
 * policy is the bench's (bench/policy.ts), with 1,000 policy test cases.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { EMPTY_OBJECT_ACTIONS } from '../src/policy/actions.js';
import type { PolicyEngine, PolicyQuery } from '../src/policy/engine.js';
import { IndexedEngine } from '../src/policy/indexed-engine.js';
import { lintPolicyInSlices } from '../src/policy/lint.js';
import { loadPolicySource } from '../src/policy/policy-source.js';
import { buildTestedEngine } from '../src/policy/policy-store.js';
import { testCaseLoadSteps, testCaseSteps } from '../src/policy/test-cases.js';
import { runInSlices } from '../src/policy/time-slices.js';
import { benchPolicy, writePolicyFiles } from './policy.js';

interface Phase {
  readonly name: string;
  readonly start: number;
  end: number;
  longest: number;
  longestCpu: number;
}

/** CPU time this process has used, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const TEST_CASES = 1000;

/** A tests folder with TEST_CASES cases drawn from the policy's requests, expecting what `engine` answers (so they pass). */
function writeTestCases(dir: string, engine: PolicyEngine, requests: readonly PolicyQuery[]): string {
  const tests = join(dir, 'tests');
  mkdirSync(tests);
  const cases = requests.map((q, i) => {
    const query = { ...q, object: EMPTY_OBJECT_ACTIONS.has(q.action) ? '' : q.object || 'x' };
    return { note: `case ${i}`, ...query, expect: engine.decide(query) ? 'allow' : 'deny' };
  });
  writeFileSync(join(tests, 'cases.yaml'), JSON.stringify({ cases }));
  return tests;
}

const phases: Phase[] = [];
const pauses: Array<{ start: number; duration: number }> = [];
let current: Phase | undefined;
let lastTurn = performance.now();
let lastTurnCpu = cpuMs();
let ticking = true;

function turn(): void {
  const now = performance.now();
  const cpu = cpuMs();
  if (current) {
    current.longest = Math.max(current.longest, now - lastTurn);
    current.longestCpu = Math.max(current.longestCpu, cpu - lastTurnCpu);
  }
  lastTurn = now;
  lastTurnCpu = cpu;
}

function tick(): void {
  turn();
  if (ticking) setImmediate(tick);
}

async function phase<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  await new Promise((resolve) => setImmediate(resolve));
  const entry: Phase = { name, start: performance.now(), end: 0, longest: 0, longestCpu: 0 };
  current = entry;
  lastTurn = entry.start;
  lastTurnCpu = cpuMs();
  const result = await work();
  turn();
  entry.end = performance.now();
  current = undefined;
  phases.push(entry);
  return result;
}

const generated = benchPolicy(12, 100_000);
const paths = writePolicyFiles(generated);
const gc = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) pauses.push({ start: e.startTime, duration: e.duration });
});
gc.observe({ entryTypes: ['gc'] });
setImmediate(tick);

const source = await phase('read, parse, hash (loadPolicySource)', () => loadPolicySource(paths.model, paths.policy));
const engine = await phase('validate, index (IndexedEngine.build)', () => IndexedEngine.build(source));
const tests = writeTestCases(paths.dir, engine, generated.requests(TEST_CASES));
const { cases } = await phase(`load ${TEST_CASES} test cases`, () => runInSlices(testCaseLoadSteps(tests)));
const outcomes = await phase(`run ${TEST_CASES} test cases`, () => runInSlices(testCaseSteps(engine, cases)));
const warnings = await phase('lint (lintPolicyInSlices)', () => lintPolicyInSlices(source));
await phase('all of it, as a reload (buildTestedEngine)', () => buildTestedEngine({ ...paths, tests }));
ticking = false;
await new Promise((resolve) => setTimeout(resolve, 50));
gc.disconnect();

const passed = outcomes.filter((o) => o.passed).length;
console.log(`${source.rules.length.toLocaleString('en')} rules, ${passed} of ${outcomes.length} test cases pass, ${warnings.length.toLocaleString('en')} lint warnings, version ${engine.version}`);
console.log('');
console.log('| phase | total | longest block (wall) | longest block (CPU) | longest GC pause |');
console.log('|---|---:|---:|---:|---:|');
for (const p of phases) {
  const gcMax = Math.max(0, ...pauses.filter((g) => g.start >= p.start && g.start < p.end).map((g) => g.duration));
  console.log(`| ${p.name} | ${(p.end - p.start).toFixed(1)} ms | ${p.longest.toFixed(1)} ms | ${p.longestCpu.toFixed(1)} ms | ${gcMax.toFixed(1)} ms |`);
}
rmSync(paths.dir, { recursive: true, force: true });
process.exit(0);
