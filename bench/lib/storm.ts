/**
 * Open-loop load: requests are sent on a fixed schedule whatever the answers do (a reconnect
 * storm does not wait for the proxy), and each latency is measured from the moment the request
 * was due, so a stalled server shows up in full (no coordinated omission). Requests marked
 * `first` (a user's first connect: an RS256 verification) are reported apart from repeats (a
 * verified-token hit), and the p99 of the first and the last second of the schedule shows
 * whether the queue grows.
 */
import { Pool } from 'undici';
import type { CacheCheck } from './cache-share.js';
import { quantileOfSorted } from './stats.js';

export interface StormRequest {
  readonly body: string;
  /** The user's first connect in this storm. */
  readonly first: boolean;
}

export interface StormOptions {
  readonly url: string;
  readonly path: string;
  readonly requests: readonly StormRequest[];
  /** Requests per second offered. */
  readonly rate: number;
  /** Answers must start with this and contain `contains`. */
  readonly expectPrefix: string;
  readonly contains?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Give up on one request after this long (counted as an error). */
  readonly timeoutMs?: number;
}

export interface StormResult {
  readonly offered: number;
  readonly requests: number;
  readonly firstConnects: number;
  readonly achieved: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly maxms: number;
  readonly firstP99ms: number;
  readonly repeatP99ms: number;
  /** p99 of the requests due in the schedule's first and last second. */
  readonly firstSecondP99ms: number;
  readonly lastSecondP99ms: number;
  readonly errors: number;
  /** Verified-token hits against what the schedule implies (cache-share.ts), when checked. */
  readonly cache?: CacheCheck;
}

interface Sample {
  readonly dueMs: number;
  readonly latencyMs: number;
  readonly first: boolean;
}

export async function storm(options: StormOptions): Promise<StormResult> {
  // Plenty of connections: Centrifugo opens more as its requests queue.
  const pool = new Pool(options.url, { connections: 512, pipelining: 1, keepAliveTimeout: 60_000 });
  const samples: Sample[] = [];
  let errors = 0;
  let sent = 0;
  const total = options.requests.length;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  const fire = (dueAt: number, request: StormRequest) =>
    pool
      .request({ method: 'POST', path: options.path, body: request.body, headers: { 'content-type': 'application/json', ...options.headers }, headersTimeout: options.timeoutMs ?? 10_000 })
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode !== 200 || !text.startsWith(options.expectPrefix) || (options.contains !== undefined && !text.includes(options.contains))) errors++;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => samples.push({ dueMs: dueAt - started, latencyMs: performance.now() - dueAt, first: request.first }));

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Send everything that is due by now, each stamped with its own due time.
      while (sent < total) {
        const dueAt = started + (sent * 1000) / options.rate;
        if (dueAt > now) break;
        pending.push(fire(dueAt, options.requests[sent] as StormRequest));
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  const p = (subset: Sample[], q: number) => quantileOfSorted(subset.map((s) => s.latencyMs).sort((a, b) => a - b), q);
  const scheduleMs = (total * 1000) / options.rate;
  return {
    offered: options.rate,
    requests: total,
    firstConnects: samples.filter((s) => s.first).length,
    achieved: total / seconds,
    p50ms: p(samples, 0.5),
    p99ms: p(samples, 0.99),
    maxms: p(samples, 1),
    firstP99ms: p(samples.filter((s) => s.first), 0.99),
    repeatP99ms: p(samples.filter((s) => !s.first), 0.99),
    firstSecondP99ms: p(samples.filter((s) => s.dueMs < 1000), 0.99),
    lastSecondP99ms: p(samples.filter((s) => s.dueMs >= scheduleMs - 1000), 0.99),
    errors,
  };
}

/**
 * A storm's schedule from a pool of connect bodies (one token each): every fifth request is a
 * new user's first connect, the others reconnect a user already seen (the same token, so a
 * verified-token hit), spread evenly so every second has the same mix.
 */
export function stormSchedule(tokens: readonly string[], total: number): StormRequest[] {
  const users = Math.ceil(total / 5);
  if (users > tokens.length) throw new Error(`a storm of ${total} connects needs ${users} tokens, the pool has ${tokens.length}`);
  return Array.from({ length: total }, (_, i) => {
    const newest = Math.floor(i / 5);
    if (i % 5 === 0) return { body: tokens[newest] as string, first: true };
    return { body: tokens[(i * 7919) % (newest + 1)] as string, first: false };
  });
}
