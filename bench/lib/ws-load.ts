/**
 * Drivers for client sessions: open loop (sessions started on a fixed schedule whatever the
 * server does, each timed from the moment it was due, so a stall is seen in full) and closed
 * loop (a fixed number of sessions in flight, each started when one ends: the maximum
 * throughput). Both are bounded in count and in time; every session has its own timeout.
 */
import type { SessionOutcome } from './ws-session.js';

export type Session = (index: number) => Promise<SessionOutcome>;

export interface LoadFigures {
  /** Sessions per second offered (open loop) or the concurrency (closed loop). */
  readonly offered: string;
  readonly sessions: number;
  /** Successful sessions per second over the whole row (first start to last end). */
  readonly achieved: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly errors: number;
  /** Failure reasons and how often each was seen. */
  readonly reasons: ReadonlyMap<string, number>;
  readonly seconds: number;
}

class Recorder {
  readonly latencies: number[] = [];
  readonly reasons = new Map<string, number>();
  errors = 0;
  readonly started = performance.now();

  record(outcome: SessionOutcome, since: number) {
    this.latencies.push(performance.now() - since);
    if (outcome.ok) return;
    this.errors++;
    const reason = outcome.reason ?? 'unknown';
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  figures(offered: string): LoadFigures {
    const seconds = (performance.now() - this.started) / 1000;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const ok = sorted.length - this.errors;
    return { offered, sessions: sorted.length, achieved: ok / seconds, p50ms: at(0.5), p99ms: at(0.99), errors: this.errors, reasons: this.reasons, seconds };
  }
}

/** `total` sessions at `rate` per second. */
export async function openLoop(rate: number, total: number, session: Session): Promise<LoadFigures> {
  const rec = new Recorder();
  const pending: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total) {
        const dueAt = rec.started + (sent * 1000) / rate;
        if (dueAt > now) break;
        pending.push(session(sent).then((outcome) => rec.record(outcome, dueAt)));
        sent++;
      }
      if (sent >= total) return done();
      setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  return rec.figures(`${rate}/s`);
}

/** `concurrency` sessions in flight until `total` have run or `seconds` have passed. */
export async function closedLoop(concurrency: number, total: number, seconds: number, session: Session): Promise<LoadFigures> {
  const rec = new Recorder();
  const stopAt = rec.started + seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (next < total && performance.now() < stopAt) {
      const since = performance.now();
      rec.record(await session(next++), since);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return rec.figures(`max, ${concurrency} in flight`);
}
