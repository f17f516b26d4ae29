/**
 * Shutdown of both transports. Every request that reached us before SIGTERM must be answered,
 * and a request can have reached us (its bytes in our socket buffer, not yet read) while the
 * connection still looks idle. So draining goes in three steps:
 *
 * 1. settle: keep serving, but every answer closes its connection (and /readyz says 503), so
 *    whatever is already on its way is read and answered instead of being reset;
 * 2. close: stop accepting, close the connections that are idle now, let in-flight calls finish;
 * 3. at `server.drain_timeout` (counted from the signal): cut what is still open.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Drainable {
  /** Step 1: keep answering, but no connection is kept alive past its current answer. */
  beginDrain(): void;
  /** Step 2: stop accepting, close idle connections; resolves when every connection is gone. */
  close(): Promise<void>;
  /** Step 3: close whatever is still open, in-flight calls included. */
  forceClose(): void;
}

/** The settle step: long enough for requests already in transit, short next to a drain timeout. */
export const DRAIN_SETTLE_MS = 250;

/** Drains every target; true when all closed by themselves within `timeoutMs`. */
export async function drainAll(targets: readonly Drainable[], timeoutMs: number, settleMs = Math.min(DRAIN_SETTLE_MS, timeoutMs / 4)): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (const target of targets) target.beginDrain();
  if (settleMs > 0) await sleep(settleMs);
  // The settle timer fires in the timers phase, before this loop turn polls the sockets: on a
  // stalled process, request bytes already in a buffer would not be read yet and their
  // connection would look idle. setImmediate runs after the poll phase has read them.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const closed = Promise.all(targets.map((target) => target.close()));
  const timer = new AbortController();
  const outcome = await Promise.race([
    closed.then(() => 'closed' as const),
    sleep(Math.max(0, deadline - performance.now()), 'timeout' as const, { signal: timer.signal }),
  ]);
  timer.abort();
  if (outcome === 'closed') return true;
  for (const target of targets) target.forceClose();
  return false;
}
