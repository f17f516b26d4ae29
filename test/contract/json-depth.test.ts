/**
 * Client-controlled JSON nested 5,000 levels deep (rpc and publish data, connect data, JSON in
 * b64data) is bad input: HTTP 400 with a JSON error, GRPC INVALID_ARGUMENT, never a 500 and
 * never an error-level log line. 64 levels still go through.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAX_JSON_DEPTH, jsonTextWithinDepth, jsonValueWithinDepth } from '../../src/core/json-depth.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { logCapture } from '../helpers/log-capture.js';

const SECRET = 'json-depth-caller-secret-0123456789';
const auth = { 'x-proxy-secret': SECRET };
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const DEEP = 5000;
const common = { client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json' };
const member = { roles: ['role:member'] };

/** A request body with `data` spliced in as raw JSON text (JSON.stringify could not build it). */
const withRawData = (event: string, data: string) => {
  const fields: Record<string, unknown> = { ...common };
  if (event !== 'connect') Object.assign(fields, { user: '56', meta: member });
  if (event === 'rpc') fields.method = 'tasks.echo';
  if (event === 'publish') fields.channel = 'chat:a';
  return `${JSON.stringify(fields).slice(0, -1)},"data":${data}}`;
};

/** The GRPC request for the same call: data as bytes, meta as bytes. */
const grpcRequest = (event: string, data: string) => {
  const request = jsonToGrpcRequest(withRawData(event, '0'));
  request.data = Buffer.from(data);
  return request;
};

const b64Connect = (bytes: Buffer) => JSON.stringify({ ...common, protocol: 'protobuf', encoding: 'binary', b64data: bytes.toString('base64') });

describe('JSON nesting limit over HTTP and GRPC', () => {
  let h: Harness;
  let upstream: Server;
  const capture = logCapture();

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    h = await startHarness(
      testConfigYaml(`caller_auth: { secret: ${SECRET} }\nauth: { anonymous: true }\nrpc:\n  routes:\n    - { method: tasks.echo, upstream: "${url}/echo" }`, ', body_limit: 64kb'),
      { log: createLogger('debug', capture.stream) },
    );
  });
  after(async () => {
    await h.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  for (const event of ['rpc', 'publish', 'connect']) {
    it(`${event}: data ${DEEP} levels deep is HTTP 400 with a JSON error`, async () => {
      const res = await h.http(`/centrifugo/${event}`, withRawData(event, nested(DEEP)), auth);
      assert.deepEqual(res, { status: 400, body: '{"error":"body is nested deeper than 65 levels"}' });
    });

    it(`${event}: data ${DEEP} levels deep is GRPC INVALID_ARGUMENT`, async () => {
      const method = { rpc: 'RPC', publish: 'Publish', connect: 'Connect' }[event] as string;
      const err = await h.call(method, grpcRequest(event, nested(DEEP)), auth).then(
        () => assert.fail('expected INVALID_ARGUMENT'),
        (e: { code: number; details: string }) => ({ code: e.code, details: e.details }),
      );
      assert.deepEqual(err, { code: 3, details: `field "data" is nested deeper than ${MAX_JSON_DEPTH} levels` });
    });
  }

  it(`rpc: data exactly ${MAX_JSON_DEPTH} levels deep is forwarded over both transports`, async () => {
    const body = withRawData('rpc', nested(MAX_JSON_DEPTH));
    assert.deepEqual(await h.http('/centrifugo/rpc', body, auth), { status: 200, body: '{"result":{"data":{"ok":true}}}' });
    const grpc = await h.call('RPC', grpcRequest('rpc', nested(MAX_JSON_DEPTH)), auth);
    assert.deepEqual(grpc, { result: { data: Buffer.from('{"ok":true}') } });
  });

  it(`rpc: data ${MAX_JSON_DEPTH + 1} levels deep is refused over both transports`, async () => {
    assert.equal((await h.http('/centrifugo/rpc', withRawData('rpc', nested(MAX_JSON_DEPTH + 1)), auth)).status, 400);
    await assert.rejects(h.call('RPC', grpcRequest('rpc', nested(MAX_JSON_DEPTH + 1)), auth), { code: 3 });
  });

  it('connect: JSON in b64data nested too deep is 400 / INVALID_ARGUMENT', async () => {
    const body = b64Connect(Buffer.from(`{"token":${nested(DEEP)}}`));
    assert.deepEqual(await h.http('/centrifugo/connect', body, auth), {
      status: 400,
      body: `{"error":"field \\"b64data\\" is nested deeper than ${MAX_JSON_DEPTH} levels"}`,
    });
    await assert.rejects(h.call('Connect', JSON.parse(body) as Record<string, unknown>, auth), {
      code: 3,
      details: `field "b64data" is nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });

  it('connect: binary b64data that is not JSON is not judged by its bracket bytes', async () => {
    const body = b64Connect(Buffer.concat([Buffer.from([0x0a, 0x02]), Buffer.alloc(200, '[')]));
    assert.deepEqual(await h.http('/centrifugo/connect', body, auth), { status: 200, body: '{"result":{}}' });
  });

  it('meta nested too deep (GRPC bytes) is INVALID_ARGUMENT', async () => {
    const request = jsonToGrpcRequest(withRawData('publish', '{}'));
    request.meta = Buffer.from(`{"roles":${nested(DEEP)}}`);
    await assert.rejects(h.call('Publish', request, auth), { code: 3, details: `field "meta" is nested deeper than ${MAX_JSON_DEPTH} levels` });
  });

  it('nothing above warn was logged (no error line, no stack trace)', () => {
    const loud = capture.lines.filter((line) => line.level === 'error' || line.level === 'fatal' || line.err !== undefined);
    assert.deepEqual(loud, []);
  });
});

describe('depth checks themselves', () => {
  it('count only brackets outside strings, escapes included', () => {
    assert.equal(jsonTextWithinDepth(Buffer.from('[["[[[[", "\\"[[["]]'), 2), true);
    assert.equal(jsonTextWithinDepth(Buffer.from('[[{"a":[1]}]]'), 3), false);
    assert.equal(jsonTextWithinDepth(Buffer.from('[[{"a":[1]}]]'), 4), true);
  });

  it('a million levels are checked without overflowing, as text and as a value', () => {
    assert.equal(jsonTextWithinDepth(Buffer.from(nested(1_000_000)), MAX_JSON_DEPTH), false);
    let value: unknown[] = [];
    for (let i = 0; i < 1_000_000; i++) value = [value];
    assert.equal(jsonValueWithinDepth(value, MAX_JSON_DEPTH), false);
    assert.equal(jsonValueWithinDepth({ a: [{ b: [] }] }, 4), true);
    assert.equal(jsonValueWithinDepth({ a: [{ b: [] }] }, 3), false);
  });
});
