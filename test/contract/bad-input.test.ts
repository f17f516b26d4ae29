/**
 * Requests that are not Centrifugo proxy requests get HTTP 4xx / a GRPC error status and no
 * decision; operational endpoints answer as documented.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, Metadata, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ROOT, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

const SECRET = 'bad-input-caller-secret-0123456789';
const auth = { 'x-proxy-secret': SECRET };
const subscribe = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:a', ...extra });

describe('bad input over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(testConfigYaml(`caller_auth: { secret: ${SECRET} }`, ', body_limit: 1kb'));
  });
  after(() => h.stop());

  const cases: Array<{ note: string; path?: string; body: string; headers?: Record<string, string>; status: number; error: string }> = [
    { note: 'malformed JSON', body: '{"client":', status: 400, error: 'body is not valid JSON' },
    { note: 'a JSON array', body: '[]', status: 400, error: 'body must be a JSON object' },
    { note: 'missing channel', body: subscribe({ channel: undefined }), status: 400, error: 'field "channel" is required' },
    { note: 'missing user', body: subscribe({ user: undefined }), status: 400, error: 'field "user" is required' },
    { note: 'wrong type', body: subscribe({ user: 56 }), status: 400, error: 'field "user" must be a string' },
    { note: 'invalid base64', body: subscribe({ b64data: 'not base64!' }), status: 400, error: 'field "b64data" is not valid base64' },
    { note: 'oversized body', body: subscribe({ data: 'x'.repeat(2000) }), status: 413, error: 'body larger than 1024 bytes' },
    { note: 'wrong content type', body: subscribe(), headers: { 'content-type': 'text/plain' }, status: 415, error: 'content-type must be application/json' },
    { note: 'missing caller secret', body: subscribe(), headers: { 'x-proxy-secret': '' }, status: 401, error: 'caller authentication failed' },
    { note: 'wrong caller secret', body: subscribe(), headers: { 'x-proxy-secret': `${SECRET}x` }, status: 401, error: 'caller authentication failed' },
  ];
  for (const c of cases) {
    it(c.note, async () => {
      const res = await h.http(c.path ?? '/centrifugo/subscribe', c.body, { ...auth, ...c.headers });
      assert.equal(res.status, c.status);
      assert.equal(res.body, JSON.stringify({ error: c.error }));
    });
  }

  it('GET on a proxy endpoint is 405', async () => {
    const res = await fetch(`${h.httpUrl}/centrifugo/subscribe`, { headers: auth });
    assert.equal(res.status, 405);
  });

  it('a query string on the endpoint URL is accepted', async () => {
    const res = await h.http('/centrifugo/subscribe?tag=x', subscribe({ meta: { roles: ['role:member'] } }), auth);
    assert.deepEqual(res, { status: 200, body: '{"result":{}}' });
  });

  it('unknown path is 404 JSON', async () => {
    const res = await h.http('/centrifugo/nope', subscribe(), auth);
    assert.equal(res.status, 404);
    assert.equal(res.body, '{"error":"not found"}');
  });

  it('healthz, readyz and metrics answer', async () => {
    assert.equal((await fetch(`${h.httpUrl}/healthz`)).status, 200);
    const ready = await fetch(`${h.httpUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', policy_version: h.app.policy.current().version });
    await h.http('/centrifugo/subscribe', subscribe(), auth);
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
    assert.match(metrics, /cpp_decisions_total\{event="subscribe",decision="error",code="403"\} \d+/);
    assert.match(metrics, /cpp_rejected_requests_total\{transport="http",reason="401"\} 2/);
    assert.match(metrics, /cpp_policy_info\{version="[0-9a-f]{12}"\} 1/);
  });

  it('readyz is 503 with a reason while draining', async () => {
    h.app.state.markDraining();
    const res = await fetch(`${h.httpUrl}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'not ready', reason: 'shutting down', policy_version: h.app.policy.current().version });
  });
});

describe('bad input over GRPC', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(testConfigYaml(`caller_auth: { secret: ${SECRET} }`));
  });
  after(() => h.stop());

  const grpcError = async (method: string, request: Record<string, unknown>, metadata: Record<string, string>) =>
    h.call(method, request, metadata).then(
      () => assert.fail('expected an error status'),
      (err: { code: number; details: string }) => ({ code: err.code, details: err.details }),
    );

  it('missing caller secret is UNAUTHENTICATED', async () => {
    assert.deepEqual(await grpcError('Subscribe', { client: 'c', user: '56', channel: 'chat:a' }, {}), {
      code: 16,
      details: 'caller authentication failed',
    });
  });

  it('missing channel is INVALID_ARGUMENT', async () => {
    assert.deepEqual(await grpcError('Subscribe', { client: 'c', user: '56' }, auth), { code: 3, details: 'field "channel" is required' });
  });

  it('meta that is not JSON is INVALID_ARGUMENT', async () => {
    assert.deepEqual(await grpcError('Subscribe', { client: 'c', user: '56', channel: 'chat:a', meta: Buffer.from('{oops') }, auth), {
      code: 3,
      details: 'field "meta" is not valid JSON',
    });
  });

  it('methods we do not implement answer UNIMPLEMENTED, and the server keeps serving', async () => {
    const err = await grpcError('MapPublish', { client: 'c', user: '56', channel: 'chat:a' }, auth);
    assert.equal(err.code, 12);
    const ok = await h.call('Subscribe', { client: 'c', user: '56', channel: 'chat:a', meta: Buffer.from('{"roles":["role:member"]}') }, auth);
    assert.deepEqual(ok, { result: {} });
  });

  /** Raw bytes on a method's path, as a caller that does not speak the proto would send them. */
  const rawCall = (method: string, bytes: Buffer, metadata: Record<string, string>, kind: 'unary' | 'serverStream' | 'bidi' = 'unary') => {
    const md = new Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    const path = `/centrifugal.centrifugo.proxy.CentrifugoProxy/${method}`;
    const same = (b: Buffer) => b;
    return new Promise<{ code: number; details: string }>((resolve, reject) => {
      const settle = (err: ServiceError | null) => (err ? resolve({ code: err.code, details: err.details }) : reject(new Error('expected an error status')));
      if (kind === 'unary') {
        h.grpc.makeUnaryRequest(path, same, same, bytes, md, (err: ServiceError | null) => settle(err));
        return;
      }
      const stream = kind === 'serverStream' ? h.grpc.makeServerStreamRequest(path, same, same, bytes, md) : h.grpc.makeBidiStreamRequest(path, same, same, md);
      if (kind === 'bidi') (stream as ClientDuplexStream<Buffer, Buffer>).write(bytes);
      stream.on('data', () => reject(new Error('expected no message')));
      stream.on('error', (err: ServiceError) => settle(err));
    });
  };
  // A length-delimited field 1 whose 3 bytes of varint length run past the end: no proto message.
  const JUNK = Buffer.from([0xff, 0xff, 0xff]);

  // Centrifugo's own request message of each method we implement.
  const implemented: Array<[string, string]> = [
    ['Connect', 'ConnectRequest'],
    ['Refresh', 'RefreshRequest'],
    ['Subscribe', 'SubscribeRequest'],
    ['Publish', 'PublishRequest'],
    ['RPC', 'RPCRequest'],
    ['SubRefresh', 'SubRefreshRequest'],
  ];
  for (const [method, message] of implemented) {
    it(`${method}: bytes that are not a ${message} are INVALID_ARGUMENT`, async () => {
      assert.deepEqual(await rawCall(method, JUNK, auth), { code: 3, details: `request is not a valid ${message} message` });
    });
  }

  it('undecodable bytes without the caller secret are UNAUTHENTICATED, not INVALID_ARGUMENT', async () => {
    assert.deepEqual(await rawCall('Subscribe', JUNK, {}), { code: 16, details: 'caller authentication failed' });
  });

  it('an undecodable request is counted as rejected INVALID_ARGUMENT', async () => {
    const counted = async () => {
      const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
      return Number(/cpp_rejected_requests_total\{transport="grpc",reason="INVALID_ARGUMENT"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    const before = await counted();
    await rawCall('Publish', JUNK, auth);
    assert.equal(await counted(), before + 1);
  });

  const unimplemented: Array<[string, 'unary' | 'serverStream' | 'bidi']> = [
    ['SubscribeUnidirectional', 'serverStream'],
    ['SubscribeBidirectional', 'bidi'],
    ['NotifyCacheEmpty', 'unary'],
    ['NotifyChannelState', 'unary'],
    ['MapPublish', 'unary'],
    ['MapRemove', 'unary'],
    ['SharedPollRefresh', 'unary'],
  ];
  for (const [method, kind] of unimplemented) {
    for (const [note, bytes] of [
      ['junk', JUNK],
      ['an empty message', Buffer.alloc(0)],
    ] as const) {
      it(`${method} (not implemented) answers UNIMPLEMENTED to ${note}`, async () => {
        assert.deepEqual(await rawCall(method, bytes, auth, kind), {
          code: 12,
          details: `The server does not implement the method ${method}`,
        });
      });
    }
  }

  it('grpc.health.v1.Health reports SERVING', async () => {
    const definition = loadSync(`${ROOT}/node_modules/grpc-health-check/proto/health/v1/health.proto`, { keepCase: true, enums: String });
    const root = loadPackageDefinition(definition) as GrpcObject;
    const Health = ((root.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
    const client = new (Health.Health as ServiceClientConstructor)(`127.0.0.1:${h.grpcPort}`, credentials.createInsecure());
    const answer = await new Promise((resolve, reject) =>
      (client as unknown as { Check: (r: unknown, cb: (e: Error | null, v: unknown) => void) => void }).Check({ service: 'centrifugal.centrifugo.proxy.CentrifugoProxy' }, (e: Error | null, v: unknown) => (e ? reject(e) : resolve(v))),
    );
    client.close();
    assert.deepEqual(answer, { status: 'SERVING' });
  });
});
