/**
 * Slow and greedy clients on the HTTP port (issue 14, findings 6 and 10): connections that trickle
 * their headers or body, or send nothing, are closed within http.headers_timeout /
 * request_timeout; an idle keep-alive connection (how Centrifugo reuses its proxy connections)
 * outlives both and stays usable; past http.max_connections new connections are closed and the
 * open ones keep working; a caller leaving mid-body is a debug line, not an error.
 * Raw sockets throughout: fetch's own pool would blur which connection is which.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/telemetry/logger.js';
import { startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { logCapture } from '../helpers/log-capture.js';

const SECRET = 'http-limits-caller-secret-0123456789';
const HEADERS_MS = 500;
const REQUEST_MS = 1000;
/** Node checks for late requests every HEADERS_MS / 4 here; a little more for a loaded machine. */
const SLACK_MS = 700;
const BODY = JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:a', meta: { roles: ['role:member'] } });
const request = (body = BODY) =>
  `POST /centrifugo/subscribe HTTP/1.1\r\nhost: proxy\r\ncontent-type: application/json\r\nx-proxy-secret: ${SECRET}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

interface RawConnection {
  readonly socket: Socket;
  /** Resolves when the server closes the connection, with the time it took since opening. */
  readonly closed: Promise<number>;
  /** Everything received so far. */
  received(): string;
  /** Sends one request and waits for a complete answer (status line + content-length body). */
  exchange(text: string): Promise<string>;
}

function open(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let waiter: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      waiter?.();
    });
    socket.on('error', () => undefined);
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - started)));
    socket.once('connect', () =>
      resolve({
        socket,
        closed,
        received: () => data,
        exchange: (text) =>
          new Promise((done, fail) => {
            const from = data.length;
            waiter = () => {
              const answer = data.slice(from);
              const head = answer.indexOf('\r\n\r\n');
              const length = Number(/content-length: (\d+)/i.exec(answer)?.[1] ?? NaN);
              if (head >= 0 && answer.length >= head + 4 + length) {
                waiter = undefined;
                done(answer);
              }
            };
            socket.once('close', () => fail(new Error(`closed before an answer; got ${JSON.stringify(data.slice(from))}`)));
            socket.write(text);
          }),
      }),
    );
    socket.once('error', reject);
  });
}

const statusOf = (answer: string) => answer.split(' ')[1];

describe('HTTP slow clients and connection cap', () => {
  let h: Harness;
  let port: number;
  const capture = logCapture();

  before(async () => {
    h = await startHarness(
      testConfigYaml(`caller_auth: { secret: ${SECRET} }`, `, headers_timeout: ${HEADERS_MS}ms, request_timeout: ${REQUEST_MS}ms, max_connections: 40`),
      { log: createLogger('debug', capture.stream) },
    );
    port = Number(new URL(h.httpUrl).port);
  });
  after(() => h.stop());

  it('30 connections trickling header bytes without a secret are all closed within headers_timeout', { timeout: 5000 }, async () => {
    const conns = await Promise.all(Array.from({ length: 30 }, () => open(port)));
    const trickle = setInterval(() => {
      for (const c of conns) if (!c.socket.destroyed) c.socket.write('x');
    }, 50);
    for (const c of conns) c.socket.write('POST /centrifugo/connect HTTP/1.1\r\nhost: proxy\r\nx-slow: ');
    const times = await Promise.all(conns.map((c) => c.closed));
    clearInterval(trickle);
    assert.ok(Math.max(...times) < HEADERS_MS + SLACK_MS, `closed after ${Math.round(Math.max(...times))} ms`);
    assert.ok(Math.min(...times) >= HEADERS_MS - 50, `not before headers_timeout (${Math.round(Math.min(...times))} ms)`);
    assert.match(conns[0]?.received() ?? '', /^HTTP\/1\.1 408 /);
  });

  it('a connection that sends nothing at all is closed within headers_timeout', { timeout: 5000 }, async () => {
    const silent = await open(port);
    assert.ok((await silent.closed) < HEADERS_MS + SLACK_MS);
  });

  it('a body trickled after complete headers is cut at request_timeout', { timeout: 5000 }, async () => {
    const slow = await open(port);
    const body = BODY.padEnd(400);
    slow.socket.write(request(body).slice(0, -body.length));
    const trickle = setInterval(() => slow.socket.write(' '), 50);
    const took = await slow.closed;
    clearInterval(trickle);
    assert.ok(took >= REQUEST_MS - 50 && took < REQUEST_MS + SLACK_MS, `closed after ${Math.round(took)} ms`);
  });

  it('an idle keep-alive connection outlives both timeouts and is reused', { timeout: 5000 }, async () => {
    const c = await open(port);
    assert.equal(statusOf(await c.exchange(request())), '200');
    // Longer than both timeouts, and than a short keepAliveTimeout plus the 1 s node adds to it.
    await sleep(2500);
    assert.equal(c.socket.destroyed, false);
    const again = await c.exchange(request());
    assert.equal(statusOf(again), '200');
    assert.match(again, /\r\n\r\n\{"result":\{\}\}$/);
    c.socket.destroy();
  });

  it('past max_connections new connections are closed at once; open ones keep answering', { timeout: 5000 }, async () => {
    const held = await Promise.all(Array.from({ length: 40 }, () => open(port)));
    for (const c of held) assert.equal(statusOf(await c.exchange(request())), '200');
    const extra = await Promise.all(Array.from({ length: 5 }, () => open(port)));
    const refusedIn = await Promise.all(extra.map((c) => c.closed));
    assert.ok(Math.max(...refusedIn) < 300, `refused after ${Math.round(Math.max(...refusedIn))} ms`);
    assert.deepEqual(extra.map((c) => c.received()), ['', '', '', '', '']);
    for (const c of held) assert.equal(statusOf(await c.exchange(request())), '200');
    for (const c of held) c.socket.destroy();
    await sleep(100);
    // Room again once they are gone.
    const later = await open(port);
    assert.equal(statusOf(await later.exchange(request())), '200');
    later.socket.destroy();
  });

  it('a caller leaving mid-body is logged at debug, never at error', { timeout: 5000 }, async () => {
    const before = capture.lines.length;
    const c = await open(port);
    const body = BODY.padEnd(1000);
    c.socket.write(request(body).slice(0, -900));
    await sleep(100);
    c.socket.destroy();
    await sleep(200);
    const lines = capture.lines.slice(before);
    assert.deepEqual(lines.filter((l) => l.level === 'error' || l.level === 'fatal'), []);
    assert.equal(lines.filter((l) => l.msg === 'caller went away before its request was read' && l.level === 'debug').length, 1);
  });
});
