/**
 * Slow and greedy clients on the GRPC port (issue 14, finding 6, for GRPC): grpc-js alone keeps
 * a TCP connection that never starts HTTP/2 open forever, and has no cap on connections.
 * grpc.handshake_timeout closes connections that have not sent the HTTP/2 preface (or finished
 * TLS) in time, grpc.max_connections closes connections past the cap as they arrive, bytes that
 * are not HTTP/2 close the connection at once; an established connection left idle (how
 * Centrifugo holds its proxy connection) outlives the timeout and keeps answering.
 * Raw sockets for the misbehaving clients, grpc-js clients for the well-behaved ones.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { startHarness, testConfigYaml, wireClient, type Harness } from '../helpers/harness.js';

const TIMEOUT_MS = 500;
/** Room for a loaded 2-core machine past the timeout (without the bound they stay open for good). */
const SLACK_MS = 2500;
const SUBSCRIBE = { client: 'c1', user: '56', channel: 'chat:a', meta: Buffer.from('{"roles":["role:member"]}') };

interface Raw {
  readonly socket: Socket;
  /** Resolves with the time from opening to the server closing it. */
  readonly closed: Promise<number>;
}

function openRaw(port: number, send?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - started)));
    socket.once('connect', () => {
      if (send !== undefined) socket.write(send);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

function subscribe(client: Client): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: unknown, m: Metadata, o: object, cb: (e: ServiceError | null, v: Record<string, unknown>) => void) => void>).Subscribe!.call(
      client,
      SUBSCRIBE,
      new Metadata(),
      { deadline: Date.now() + 5000 },
      (err, value) => (err ? reject(err) : resolve(value)),
    );
  });
}

async function refused(h: Harness, reason: string): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`cpp_grpc_connections_refused_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const withLimits = (limits: string, tls = '') => testConfigYaml().replace('grpc: { port: 0, host: 127.0.0.1 }', `grpc: { port: 0, host: 127.0.0.1, ${limits}${tls} }`);

describe('GRPC port: connections that never start HTTP/2 (plaintext)', () => {
  let h: Harness;
  let port: number;
  before(async () => {
    h = await startHarness(withLimits(`handshake_timeout: ${TIMEOUT_MS}ms, max_connections: 40`));
    port = h.grpcPort;
  });
  after(() => h.stop());

  it('silent connections and a half-sent preface are closed within handshake_timeout; a client connecting meanwhile is answered', { timeout: 15_000 }, async () => {
    const before = await refused(h, 'handshake_timeout');
    const silent = await Promise.all(Array.from({ length: 20 }, () => openRaw(port)));
    const halfPreface = await openRaw(port, 'PRI * HTTP/2.0\r\n');
    const Ctor = wireClient();
    const client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      assert.deepEqual(await subscribe(client), { result: {} });
    } finally {
      client.close();
    }
    const times = await Promise.all([...silent, halfPreface].map((r) => r.closed));
    assert.ok(Math.min(...times) >= TIMEOUT_MS - 50, `not before the timeout (${Math.round(Math.min(...times))} ms)`);
    assert.ok(Math.max(...times) <= TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(Math.max(...times))} ms`);
    assert.equal((await refused(h, 'handshake_timeout')) - before, 21);
  });

  it('bytes that are not HTTP/2 (an HTTP/1.1 request) close the connection at once', { timeout: 15_000 }, async () => {
    const before = await refused(h, 'not_http2');
    const http1 = await openRaw(port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.ok((await http1.closed) < TIMEOUT_MS, 'closed before the handshake timeout');
    assert.equal((await refused(h, 'not_http2')) - before, 1);
  });

  it('an established connection left idle outlives handshake_timeout and keeps answering', async () => {
    const Ctor = wireClient();
    const client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      assert.deepEqual(await subscribe(client), { result: {} });
      const before = await refused(h, 'handshake_timeout');
      await sleep(TIMEOUT_MS * 3);
      assert.deepEqual(await subscribe(client), { result: {} });
      assert.equal(await refused(h, 'handshake_timeout'), before, 'the idle connection was not cut');
    } finally {
      client.close();
    }
  });
});

describe('GRPC port: grpc.max_connections', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(withLimits(`handshake_timeout: 3s, max_connections: 3`));
  });
  after(() => h.stop());

  it('past the cap new connections are closed as they arrive; below it again, clients are answered', { timeout: 15_000 }, async () => {
    const held = await Promise.all(Array.from({ length: 3 }, () => openRaw(h.grpcPort)));
    await sleep(100);
    const extra = await Promise.all(Array.from({ length: 4 }, () => openRaw(h.grpcPort)));
    for (const e of extra) assert.ok((await e.closed) < 1000, 'closed at once');
    assert.equal(await refused(h, 'max_connections'), 4);
    for (const r of held) r.socket.destroy();
    await Promise.all(held.map((r) => r.closed));
    await sleep(100);
    const Ctor = wireClient();
    const client = new Ctor(`127.0.0.1:${h.grpcPort}`, credentials.createInsecure());
    try {
      assert.deepEqual(await subscribe(client), { result: {} });
    } finally {
      client.close();
    }
  });
});

describe('GRPC port with TLS: a stalled handshake', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpp-grpc-conn-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
    h = await startHarness(withLimits(`handshake_timeout: ${TIMEOUT_MS}ms`, `, tls: { cert: ${join(dir, 'server.crt')}, key: ${join(dir, 'server.key')} }`));
  });
  after(() => h.stop());

  it('a connection that never finishes TLS is closed within handshake_timeout; a TLS client is answered meanwhile', { timeout: 15_000 }, async () => {
    const silent = await Promise.all(Array.from({ length: 5 }, () => openRaw(h.grpcPort)));
    const Ctor = wireClient();
    const client = new Ctor(`localhost:${h.grpcPort}`, credentials.createSsl(readFileSync(join(dir, 'server.crt'))));
    try {
      assert.deepEqual(await subscribe(client), { result: {} });
    } finally {
      client.close();
    }
    const times = await Promise.all(silent.map((r) => r.closed));
    assert.ok(Math.min(...times) >= TIMEOUT_MS - 50, `not before the timeout (${Math.round(Math.min(...times))} ms)`);
    assert.ok(Math.max(...times) <= TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(Math.max(...times))} ms`);
    assert.equal(await refused(h, 'handshake_timeout'), 5);
  });
});
