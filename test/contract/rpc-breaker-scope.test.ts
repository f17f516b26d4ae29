/**
 * What the RPC breaker counts and what it covers, over HTTP and GRPC: a caller hanging up is not
 * an upstream failure, and one slow route does not turn the healthy routes of the same upstream
 * into 503s.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

/** /hold answers when released; /slow after 800 ms; anything else at once. */
async function startUpstream() {
  let held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      if (req.url === '/hold') held.push(res);
      else if (req.url === '/slow') setTimeout(() => res.end('{"late":true}'), 800);
      else res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Live held calls (ones whose caller, our forwarder, gave up are dropped). */
    held: () => (held = held.filter((res) => !res.destroyed)).length,
    release: () => {
      for (const res of held) if (!res.destroyed) res.end('{"held":true}');
      held = [];
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const rpcBody = (method: string) =>
  JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', method, data: {}, meta: { roles: ['role:member'] } });

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
}

/** An HTTP rpc call the caller abandons once the upstream has it. */
async function abandonHttp(h: Harness, up: Awaited<ReturnType<typeof startUpstream>>, method: string): Promise<void> {
  const before = up.held();
  const controller = new AbortController();
  const pending = fetch(`${h.httpUrl}/centrifugo/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rpcBody(method), signal: controller.signal });
  await until(() => up.held() > before, 'the upstream got the call');
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  await until(() => up.held() === before, 'the forwarder dropped the upstream call');
}

/** The same over GRPC: call.cancel(). */
async function abandonGrpc(h: Harness, up: Awaited<ReturnType<typeof startUpstream>>, method: string): Promise<void> {
  const before = up.held();
  let settled!: Promise<Error | null>;
  const call = (h.grpc.RPC as (r: unknown, m: Metadata, cb: (e: Error | null) => void) => { cancel(): void }).call(
    h.grpc,
    jsonToGrpcRequest(rpcBody(method)),
    new Metadata(),
    (err) => (settled = Promise.resolve(err)),
  );
  await until(() => up.held() > before, 'the upstream got the call');
  call.cancel();
  await until(() => settled !== undefined, 'the cancelled call settled');
  assert.match(String((await settled)?.message), /CANCELLED|Cancelled/);
  await until(() => up.held() === before, 'the forwarder dropped the upstream call');
}

/** One call over each transport; returns both bodies in HTTP JSON form. */
async function both(h: Harness, method: string): Promise<{ http: string; grpc: string }> {
  const http = (await h.http('/centrifugo/rpc', rpcBody(method))).body;
  const answer = (await h.call('RPC', jsonToGrpcRequest(rpcBody(method)))) as { error?: { code: number } };
  return { http, grpc: answer.error ? `error ${answer.error.code}` : 'result' };
}

describe('rpc breaker scope', () => {
  let up: Awaited<ReturnType<typeof startUpstream>>;
  let h: Harness;

  before(async () => {
    up = await startUpstream();
    h = await startHarness(
      testConfigYaml(`
rpc:
  breaker: { failures: 2, cooldown: 30s }
  routes:
    - { method: tasks.hold, upstream: "${up.url}/hold", timeout: 5s }
    - { method: tasks.slow, upstream: "${up.url}/slow", timeout: 100ms }
    - { method: tasks.fast, upstream: "${up.url}/fast" }`),
    );
  });
  after(async () => {
    up?.release();
    await h?.stop();
    await up?.close();
  });

  it('callers hanging up (HTTP abort, GRPC cancel) are not upstream failures', async () => {
    // Twice the breaker's threshold on each transport.
    for (let i = 0; i < 4; i++) await abandonHttp(h, up, 'tasks.hold');
    for (let i = 0; i < 4; i++) await abandonGrpc(h, up, 'tasks.hold');
    // Still closed: the next call reaches the upstream and gets its answer.
    const answer = h.http('/centrifugo/rpc', rpcBody('tasks.hold'));
    await until(() => up.held() === 1, 'the call reached the upstream (breaker closed)');
    up.release();
    assert.equal((await answer).body, '{"result":{"data":{"held":true}}}');
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
    assert.match(metrics, /cpp_upstream_duration_seconds_count\{route="tasks.hold",status="cancelled"\} 8/);
  });

  it('a slow route opening its breaker leaves the other routes of the same upstream alone', async () => {
    const timeout = '{"error":{"code":504,"message":"upstream timeout","temporary":true}}';
    assert.deepEqual(await both(h, 'tasks.slow'), { http: timeout, grpc: 'error 504' });
    // Open for tasks.slow: answered at once, without an upstream call.
    const unavailable = '{"error":{"code":503,"message":"upstream unavailable","temporary":true}}';
    assert.deepEqual(await both(h, 'tasks.slow'), { http: unavailable, grpc: 'error 503' });
    // Same origin, other route: still served.
    assert.deepEqual(await both(h, 'tasks.fast'), { http: '{"result":{"data":{"ok":true}}}', grpc: 'result' });
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`cpp_upstream_breaker_state\\{route="tasks.slow",upstream="${up.url}/slow",state="open"\\} 1`));
  });
});
