/**
 * rate_limits on the wire, every answer over HTTP and GRPC (both transports count into the same
 * limit), with in-process counts and a fixed clock: 429 `too many requests` temporary for
 * publish, rpc and connect; requests the policy refuses take no slot; connect counts by the
 * configured address header before the token check and by user after it; the metrics count.
 * The shared Redis counts are in test/integration/rate-limits.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { hs256 } from '../helpers/more-tokens.js';
import { HMAC_SECRET } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const TOO_MANY = '{"error":{"code":429,"message":"too many requests","temporary":true}}';
const DENIED = '{"error":{"code":403,"message":"permission denied"}}';
const NOT_FOUND = '{"error":{"code":404,"message":"method not found"}}';
const UNAUTHORIZED = '{"disconnect":{"code":4501,"reason":"unauthorized"}}';
const PUBLISHED = '{"result":{}}';
const CONNECTED = (user: string) => `{"result":{"user":"${user}","expire_at":${NOW + 3600}}}`;
const GRPC_METHOD = { publish: 'Publish', rpc: 'RPC', connect: 'Connect' } as const;

const publish = (user: string, channel: string, roles = ['role:member']) =>
  JSON.stringify({ client: `c-${user}`, transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, data: { text: 'hi' }, meta: { roles } });
const rpc = (user: string, method: string, roles = ['role:member']) =>
  JSON.stringify({ client: `c-${user}`, transport: 'websocket', protocol: 'json', encoding: 'json', user, method, data: {}, meta: { roles } });
const connect = (token: string) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token } });
const token = (sub: string) => hs256({ sub, exp: NOW + 3600 });

/** One request over HTTP, then the same over GRPC: each answer must be `expected` (one entry per transport). */
async function both(h: Harness, event: keyof typeof GRPC_METHOD, body: string, expected: [string, string], headers: Record<string, string> = {}): Promise<void> {
  const http = await h.http(`/centrifugo/${event}`, body, headers);
  assert.equal(http.status, 200);
  assert.equal(http.body, expected[0], `HTTP ${event}`);
  const grpc = await h.call(GRPC_METHOD[event], jsonToGrpcRequest(body), headers);
  assert.deepEqual(grpcToJson(grpc), JSON.parse(expected[1]), `GRPC ${event}`);
}

async function metric(h: Harness, line: string): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').at(-1)) : 0;
}

describe('contract: rate limits (HTTP and GRPC)', () => {
  let h: Harness;
  let upstream: Server;
  let upstreamCalls = 0;
  const clock = { now: NOW_MS };
  const revoked = new Set<string>();

  before(async () => {
    upstream = createServer((req, res) => {
      upstreamCalls += 1;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    h = await startHarness(
      testConfigYaml(`
auth: { jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" } }
rpc: { routes: [ { method: tasks.get, upstream: "${up}/get" } ] }
rate_limits:
  address_header: X-Real-IP
  connect: [ { by: address, limit: 4, window: 10s }, { by: user, limit: 2, window: 10s } ]
  publish: [ { channel: "chat:*", limit: 2, window: 10s } ]
  rpc: [ { method: "tasks.*", limit: 2, window: 10s } ]`),
      { now: () => clock.now, revocations: { isRevoked: async (user) => revoked.has(user) } },
    );
  });
  after(async () => {
    await h.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('publish: two per user per 10 s over both transports together, then 429 temporary; other users count apart; the window slides', async () => {
    await both(h, 'publish', publish('56', 'chat:room'), [PUBLISHED, PUBLISHED]);
    await both(h, 'publish', publish('56', 'chat:other'), [TOO_MANY, TOO_MANY]);
    await both(h, 'publish', publish('57', 'chat:room'), [PUBLISHED, PUBLISHED]);
    clock.now += 20_000;
    await both(h, 'publish', publish('56', 'chat:room'), [PUBLISHED, PUBLISHED]);
    assert.equal(await metric(h, 'cpp_rate_limited_total{action="publish"}'), 2);
  });

  it('publish: a request the policy refuses answers 403 and takes no slot', async () => {
    for (let i = 0; i < 3; i++) await both(h, 'publish', publish('58', 'chat:room', []), [DENIED, DENIED]);
    await both(h, 'publish', publish('58', 'chat:room'), [PUBLISHED, PUBLISHED]);
    // Over the limit, a refused request is still a 403 (the policy answers first).
    await both(h, 'publish', publish('58', 'chat:room', []), [DENIED, DENIED]);
    await both(h, 'publish', publish('58', 'chat:room'), [TOO_MANY, TOO_MANY]);
  });

  it('rpc: two per user per 10 s, then 429 and the upstream is not called; denied and unknown methods take no slot', async () => {
    await both(h, 'rpc', rpc('56', 'tasks.get', []), [DENIED, DENIED]);
    await both(h, 'rpc', rpc('56', 'tasks.unknown'), [NOT_FOUND, NOT_FOUND]);
    const before = upstreamCalls;
    await both(h, 'rpc', rpc('56', 'tasks.get'), ['{"result":{"data":{"ok":true}}}', '{"result":{"data":{"ok":true}}}']);
    await both(h, 'rpc', rpc('56', 'tasks.get'), [TOO_MANY, TOO_MANY]);
    assert.equal(upstreamCalls, before + 2);
    assert.equal(await metric(h, 'cpp_rate_limited_total{action="rpc"}'), 2);
  });

  it('connect by address: counted before the token check (bad tokens use up the address), answered 429 temporary so SDKs retry', async () => {
    const from = { 'x-real-ip': '203.0.113.7' };
    await both(h, 'connect', connect('a.b.c'), [UNAUTHORIZED, UNAUTHORIZED], from);
    await both(h, 'connect', connect(token('60')), [CONNECTED('60'), CONNECTED('60')], from);
    await both(h, 'connect', connect(token('61')), [TOO_MANY, TOO_MANY], from);
    // The last entry of a forwarded list is the address; another address has its own count.
    await both(h, 'connect', connect(token('62')), [CONNECTED('62'), CONNECTED('62')], { 'x-real-ip': '203.0.113.7, 198.51.100.2' });
  });

  it('connect by user: two per 10 s whatever the address; refused connects (expired, revoked) take no slot', async () => {
    const expired = '{"disconnect":{"code":4001,"reason":"token expired"}}';
    await both(h, 'connect', connect(hs256({ sub: '70', exp: NOW - 10 })), [expired, expired], { 'x-real-ip': '198.51.100.10' });
    revoked.add('70');
    const forbidden = '{"disconnect":{"code":4503,"reason":"forbidden"}}';
    await both(h, 'connect', connect(token('70')), [forbidden, forbidden], { 'x-real-ip': '198.51.100.13' });
    revoked.delete('70');
    await both(h, 'connect', connect(token('70')), [CONNECTED('70'), CONNECTED('70')], { 'x-real-ip': '198.51.100.11' });
    await both(h, 'connect', connect(token('70')), [TOO_MANY, TOO_MANY], { 'x-real-ip': '198.51.100.12' });
    assert.equal(await metric(h, 'cpp_rate_limited_total{action="connect"}'), 4);
  });

  it('connect without the address header is not limited by address, and that is counted', async () => {
    for (let i = 0; i < 3; i++) await both(h, 'connect', connect(token(`8${i}`)), [CONNECTED(`8${i}`), CONNECTED(`8${i}`)]);
    assert.equal(await metric(h, 'cpp_rate_limit_fail_open_total{action="connect",reason="no_address"}'), 6);
  });
});

describe('contract: rate limit answer from codes.too_many_requests', () => {
  it('overridden code, message and temporary flag, over both transports', async () => {
    const h = await startHarness(
      testConfigYaml(`
rate_limits: { publish: [ { limit: 1, window: 1m } ] }
codes: { too_many_requests: { code: 1429, message: "slow down", temporary: false } }`),
    );
    try {
      await both(h, 'publish', publish('56', 'chat:room'), [PUBLISHED, '{"error":{"code":1429,"message":"slow down"}}']);
    } finally {
      await h.stop();
    }
  });
});
