/** HTTP load with wrk (keep-alive connections, like Centrifugo's pooled HTTP client). */
import { fileURLToPath } from 'node:url';
import { runTool } from './processes.js';

const SCRIPT = fileURLToPath(new URL('./wrk.lua', import.meta.url));

export interface LoadResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** Socket errors, non-2xx answers and answers that were not the expected decision. */
  readonly errors: number;
  readonly requests: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  readonly bodyFile?: string;
  readonly linesFile?: string;
  /** "prefix|suffix" → prefix + counter + suffix per request. */
  readonly unique?: string;
  readonly expectPrefix: string;
  readonly headers?: Record<string, string>;
}

export async function wrk(options: WrkOptions): Promise<LoadResult> {
  const env: Record<string, string> = { BENCH_EXPECT: options.expectPrefix };
  if (options.bodyFile) env.BENCH_BODY_FILE = options.bodyFile;
  if (options.linesFile) env.BENCH_LINES_FILE = options.linesFile;
  if (options.unique) env.BENCH_UNIQUE = options.unique;
  if (options.headers) env.BENCH_HEADERS = Object.entries(options.headers).map(([k, v]) => `${k}: ${v}`).join('\n');
  const out = await runTool('wrk', ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '5s', '-s', SCRIPT, options.url], env);
  const field = (name: string) => {
    const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(out);
    if (!match) throw new Error(`wrk output has no ${name}:\n${out}`);
    return Number(match[1]);
  };
  const requests = field('REQUESTS');
  return {
    rps: requests / (field('DURATION_US') / 1e6),
    p50ms: field('P50_US') / 1000,
    p99ms: field('P99_US') / 1000,
    errors: field('ERRORS') + field('MISMATCHES'),
    requests,
  };
}
