/**
 * Open-loop load: requests are sent on a fixed schedule whatever the answers do (a reconnect
 * storm does not wait for the proxy), and each latency is measured from the moment the request
 * was due, so a stalled server shows up in full (no coordinated omission).
 */
import { Pool } from 'undici';

export interface StormOptions {
  readonly url: string;
  readonly path: string;
  readonly bodies: readonly string[];
  /** Requests per second offered. */
  readonly rate: number;
  readonly total: number;
  /** Answers must start with this. */
  readonly expectPrefix: string;
  /** Give up on one request after this long (counted as an error). */
  readonly timeoutMs?: number;
}

export interface StormResult {
  readonly offered: number;
  readonly achieved: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly maxms: number;
  readonly errors: number;
}

export async function storm(options: StormOptions): Promise<StormResult> {
  // Plenty of connections: Centrifugo opens more as its requests queue.
  const pool = new Pool(options.url, { connections: 512, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  const fire = (dueAt: number, body: string) =>
    pool
      .request({ method: 'POST', path: options.path, body, headers: { 'content-type': 'application/json' }, headersTimeout: options.timeoutMs ?? 10_000 })
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode !== 200 || !text.startsWith(options.expectPrefix)) errors++;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => latencies.push(performance.now() - dueAt));

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Send everything that is due by now, each stamped with its own due time.
      while (sent < options.total) {
        const dueAt = started + (sent * 1000) / options.rate;
        if (dueAt > now) break;
        pending.push(fire(dueAt, options.bodies[sent % options.bodies.length] as string));
        sent++;
      }
      if (sent >= options.total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { offered: options.rate, achieved: options.total / seconds, p50ms: at(0.5), p99ms: at(0.99), maxms: at(1), errors };
}
