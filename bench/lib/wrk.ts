/** HTTP load with wrk (keep-alive connections, like Centrifugo's pooled HTTP client). */
import { fileURLToPath } from 'node:url';
import type { CacheCheck } from './cache-share.js';
import { cpuMeter, perRequestUs } from './proc-cpu.js';
import { runTool } from './processes.js';

const SCRIPT = fileURLToPath(new URL('./wrk.lua', import.meta.url));

export interface LoadResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** Socket errors, non-2xx answers, answers that were not the expected decision, answers never checked. */
  readonly errors: number;
  readonly requests: number;
  /** The first wrong answer seen (status and the start of the body), for the console. */
  readonly firstMismatch?: string;
  /** The server process's CPU time (user + system) over the load, per request answered. */
  readonly cpuUsPerRequest?: number;
  /** The row's cache hit shares against what its workload implies (cache-share.ts), when checked. */
  readonly cache?: CacheCheck;
}

/** A row that counts for nothing: wrong or missing answers, or a cache share its workload does not imply. */
export const failed = (r: { readonly errors: number; readonly cache?: CacheCheck }): boolean => r.errors > 0 || r.cache?.failure !== undefined;

/** What every answer must be: exactly `body`, or starting with `prefix` (and containing `contains`). */
export type Expect = { readonly body: string } | { readonly prefix: string; readonly contains?: string };

export interface WrkOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  readonly bodyFile?: string;
  readonly linesFile?: string;
  /** "prefix|suffix" → prefix + counter + suffix per request. */
  readonly unique?: string;
  readonly expect: Expect;
  readonly headers?: Readonly<Record<string, string>>;
  /** The server's process, for its CPU time. */
  readonly serverPid?: number;
}

export async function wrk(options: WrkOptions): Promise<LoadResult> {
  const env: Record<string, string> = {};
  if ('body' in options.expect) env.BENCH_EXPECT_BODY = options.expect.body;
  else {
    env.BENCH_EXPECT = options.expect.prefix;
    if (options.expect.contains) env.BENCH_EXPECT_CONTAINS = options.expect.contains;
  }
  if (options.bodyFile) env.BENCH_BODY_FILE = options.bodyFile;
  if (options.linesFile) env.BENCH_LINES_FILE = options.linesFile;
  if (options.unique) env.BENCH_UNIQUE = options.unique;
  if (options.headers) env.BENCH_HEADERS = Object.entries(options.headers).map(([k, v]) => `${k}: ${v}`).join('\n');
  const cpu = cpuMeter(options.serverPid);
  const out = await runTool('wrk', ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '5s', '-s', SCRIPT, options.url], env);
  const cpuUsed = cpu();
  const field = (name: string) => {
    const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(out);
    if (!match) throw new Error(`wrk output has no ${name}:\n${out}`);
    return Number(match[1]);
  };
  const requests = field('REQUESTS');
  // An answer the script never saw is not known to be right.
  const unchecked = Math.max(0, requests - field('CHECKED'));
  // A row without a single answer measured nothing: it must not pass as error-free.
  const firstMismatch = requests === 0 ? 'no answers' : /^FIRST_MISMATCH (.+)$/m.exec(out)?.[1];
  return {
    rps: requests / (field('DURATION_US') / 1e6),
    p50ms: field('P50_US') / 1000,
    p99ms: field('P99_US') / 1000,
    errors: field('ERRORS') + field('MISMATCHES') + unchecked + (requests === 0 ? 1 : 0),
    requests,
    ...(firstMismatch ? { firstMismatch } : {}),
    ...perRequestUs(cpuUsed, requests),
  };
}
