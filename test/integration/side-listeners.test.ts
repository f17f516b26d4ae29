/**
 * Slow clients on the listeners beside the proxy ports (issue 14, finding 6, extended to the
 * admin and policy page listeners): a connection trickling its headers or stalling mid-body is
 * answered 408 and closed within the bound, while a client sending a whole request at once is
 * answered. The bound is shortened here; the shipped one is SIDE_LISTENER_TIMEOUT_MS (10 s).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createAdminServer } from '../../src/admin/admin-server.js';
import { closePolicyPage, listenPolicyPage, policyPageApp } from '../../src/admin/policy-page/server.js';
import { PageAccess } from '../../src/admin/policy-page/access.js';
import type { PolicyPageAnswers } from '../../src/admin/policy-page/answers.js';
import { AppState } from '../../src/app-state.js';
import { SIDE_LISTENER_TIMEOUT_MS, sideListenerOptions } from '../../src/core/side-listener.js';
import { Metrics } from '../../src/telemetry/metrics.js';

const BOUND_MS = 400;
/** Node checks every BOUND_MS / 4; the rest is room for a loaded machine. */
const SLACK_MS = 900;

interface Closed {
  readonly ms: number;
  readonly received: string;
}

/** Opens a raw connection, sends `first`, then nothing more; resolves when the server closes it. */
function stallAfter(port: number, first: string): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(first));
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve({ ms: performance.now() - started, received }));
    setTimeout(() => (socket.destroy(), reject(new Error(`still open after ${BOUND_MS * 10} ms`))), BOUND_MS * 10).unref();
  });
}

async function checkBounds(port: number, path: string, postPath = path): Promise<void> {
  const [headers, body] = await Promise.all([
    stallAfter(port, `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: `),
    stallAfter(port, `POST ${postPath} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nabc`),
  ]);
  for (const closed of [headers, body]) {
    // A route that does not read the body answers first; the unfinished request still ends in 408.
    assert.match(closed.received, /HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n\r\n$/);
    assert.ok(closed.ms >= BOUND_MS - 50 && closed.ms <= BOUND_MS + SLACK_MS, `closed after ${Math.round(closed.ms)} ms (bound ${BOUND_MS} ms)`);
  }
  const answered = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(answered.status, 200);
}

describe('slow clients on the admin and policy page listeners', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('the shipped bound is 10 s for headers and the whole request, checked every second', () => {
    assert.deepEqual(sideListenerOptions(), { headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 1000 });
    assert.equal(SIDE_LISTENER_TIMEOUT_MS, 10_000);
  });

  it('admin listener: trickled headers and a stalled body are answered 408 and closed; a whole request is answered', async () => {
    const admin = createAdminServer({ state: new AppState(false, () => true), metrics: new Metrics() }, BOUND_MS);
    closers.push(() => admin.close());
    const port = await admin.listen('127.0.0.1', 0);
    await checkBounds(port, '/healthz');
  });

  it('policy page listener: the same', async () => {
    const app = policyPageApp({ answers: {} as PolicyPageAnswers, access: new PageAccess('', Date.now), log: pino({ level: 'silent' }) });
    const { server } = await listenPolicyPage(app, '127.0.0.1', 0, BOUND_MS);
    closers.push(() => closePolicyPage(server as Server));
    const port = (server.address() as { port: number }).port;
    // POST /login reads its form body: the stall is inside a route that waits for it.
    await checkBounds(port, '/page.css', '/login');
  });
});
