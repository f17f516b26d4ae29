// The HTTP proxy endpoint's body reading and headers (src/transport/http/proxy-endpoint.ts,
// forwarded-headers.ts): bodies answered once whole, refusals closing only half-read
// connections, the drain's hook before every head, and the forwarded headers (without the caller
// secret) that handlers see, built only if they ask.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Decision } from '../../src/core/decision.js';
import type { Headers } from '../../src/core/messages.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import type { Dispatcher } from '../../src/transport/dispatcher.js';
import { ForwardedHeaders } from '../../src/transport/http/forwarded-headers.js';
import { proxyEndpoint } from '../../src/transport/http/proxy-endpoint.js';

const SECRET = 'caller-secret-for-the-endpoint-test';
const SUBSCRIBE = Buffer.from('{"client":"c1","user":"56","channel":"chat:index"}');

/** A dispatcher whose subscribe answers at once (or later, with `later`) and records the headers it saw. */
function dispatcher(options: { later?: boolean } = {}) {
  const seen: Headers[] = [];
  const allow: Decision<never> = { kind: 'result', result: {} as never };
  const subscribe = (request: { headers: Headers }) => {
    seen.push(request.headers);
    return options.later ? Promise.resolve(allow) : allow;
  };
  return { seen, dispatcher: { subscribe } as unknown as Dispatcher };
}

function endpoint(d: Dispatcher, beforeHead: (res: ServerResponse) => void = () => {}) {
  const handle = proxyEndpoint(
    'subscribe',
    { dispatcher: d, callerOk: (s) => s === SECRET, callerHeader: 'x-proxy-secret', bodyLimit: 1024, metrics: new Metrics({ processMetrics: false }) },
    beforeHead,
  );
  return { handle };
}

class FakeRequest extends EventEmitter {
  readonly method = 'POST';
  readonly url = '/centrifugo/subscribe';
  complete = false;
  constructor(readonly rawHeaders: string[]) {
    super();
  }
  resume(): void {}
}

class FakeResponse {
  status = 0;
  body: string | undefined;
  headers = new Map<string, unknown>();
  shouldKeepAlive = true;
  headersSent = false;
  setHeader(name: string, value: unknown): void {
    this.headers.set(name, value);
  }
  writeHead(status: number, headers: Record<string, unknown>): void {
    this.status = status;
    for (const [k, v] of Object.entries(headers)) this.headers.set(k, v);
    this.headersSent = true;
  }
  end(body: string): void {
    this.body = body;
  }
}

function fakeCall(rawHeaders: string[]) {
  const req = new FakeRequest(rawHeaders);
  const res = new FakeResponse();
  return { req, res, pair: [req as unknown as IncomingMessage, res as unknown as ServerResponse] as const };
}

const headersFor = (body: Buffer, extra: string[] = []) => ['Host', 'proxy', 'Content-Type', 'application/json', 'Content-Length', String(body.length), 'X-Proxy-Secret', SECRET, ...extra];

describe('reading the body', () => {
  it('answers once the body has ended, with the chunks in order', async () => {
    const { handle } = endpoint(dispatcher().dispatcher);
    const { req, res, pair } = fakeCall(headersFor(SUBSCRIBE));
    const done = handle(...pair);
    req.emit('data', SUBSCRIBE.subarray(0, 10));
    req.emit('data', SUBSCRIBE.subarray(10));
    assert.equal(res.body, undefined);
    req.complete = true;
    req.emit('end');
    await done;
    assert.equal(res.status, 200);
    assert.equal(res.body, '{"result":{}}');
  });

  it('answers an empty body with 400 (not a JSON object) and keeps the connection', async () => {
    const { handle } = endpoint(dispatcher().dispatcher);
    const { req, res, pair } = fakeCall(headersFor(Buffer.alloc(0)));
    const done = handle(...pair);
    req.complete = true;
    req.emit('end');
    await done;
    assert.equal(res.status, 400);
    assert.equal(res.body, '{"error":"body is not valid JSON"}');
    assert.equal(res.headers.get('connection'), undefined);
  });

  it('answers a decision that settles later once it settles', async () => {
    const { handle } = endpoint(dispatcher({ later: true }).dispatcher);
    const { req, res, pair } = fakeCall(headersFor(SUBSCRIBE));
    const done = handle(...pair);
    req.emit('data', SUBSCRIBE);
    req.emit('end');
    await done;
    assert.equal(res.body, '{"result":{}}');
  });

  it('refuses a body past the limit at once and closes the half-read connection', async () => {
    const { handle } = endpoint(dispatcher().dispatcher);
    const { req, res, pair } = fakeCall(['Content-Type', 'application/json', 'Transfer-Encoding', 'chunked', 'X-Proxy-Secret', SECRET]);
    const done = handle(...pair);
    req.emit('data', Buffer.alloc(1025, 0x20));
    await done;
    assert.equal(res.status, 413);
    assert.equal(res.body, '{"error":"body larger than 1024 bytes"}');
    assert.equal(res.headers.get('connection'), 'close');
    assert.equal(req.listenerCount('data'), 0);
  });

  it('a request error before the body has ended rejects (the server decides what to do with it)', async () => {
    const { handle } = endpoint(dispatcher().dispatcher);
    const { req, res, pair } = fakeCall(headersFor(SUBSCRIBE));
    const done = handle(...pair);
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    req.emit('error', aborted);
    await assert.rejects(done, aborted);
    assert.equal(res.body, undefined);
  });

  it('runs beforeHead before every answer it writes, refusals included', async () => {
    const calls: string[] = [];
    const { handle } = endpoint(dispatcher().dispatcher, (res) => calls.push(`head sent: ${res.headersSent}`));
    const ok = fakeCall(headersFor(SUBSCRIBE));
    const answered = handle(...ok.pair);
    ok.req.emit('data', SUBSCRIBE);
    ok.req.emit('end');
    await answered;
    const refused = fakeCall(['Content-Type', 'application/json', 'X-Proxy-Secret', 'wrong']);
    await handle(...refused.pair);
    assert.equal(refused.res.status, 401);
    assert.deepEqual(calls, ['head sent: false', 'head sent: false']);
  });
});

describe('the headers handlers see', () => {
  it('are lowercased, joined as node joins repeats, and never include the caller secret', async () => {
    const { dispatcher: d, seen } = dispatcher();
    const { handle } = endpoint(d);
    const { req, pair } = fakeCall(headersFor(SUBSCRIBE, ['Cookie', 'a=1', 'X-Forwarded-For', '10.0.0.1', 'cookie', 'b=2', 'x-forwarded-for', '10.0.0.2', 'X-PROXY-SECRET', 'second']));
    const done = handle(...pair);
    req.emit('data', SUBSCRIBE);
    req.emit('end');
    await done;
    const headers = seen[0] as Headers;
    assert.equal(headers.get('cookie'), 'a=1; b=2');
    assert.equal(headers.get('x-forwarded-for'), '10.0.0.1, 10.0.0.2');
    assert.equal(headers.has('x-proxy-secret'), false);
    assert.deepEqual([...headers.keys()], ['host', 'content-type', 'content-length', 'cookie', 'x-forwarded-for']);
    assert.equal(headers.size, 5);
  });

  it('the first caller secret header counts, whatever its case', async () => {
    const { dispatcher: d } = dispatcher();
    const { handle } = endpoint(d);
    const { req, res, pair } = fakeCall(['x-PROXY-secret', SECRET, 'Content-Type', 'application/json', 'X-Proxy-Secret', 'wrong', 'Content-Length', String(SUBSCRIBE.length)]);
    const done = handle(...pair);
    req.emit('data', SUBSCRIBE);
    req.emit('end');
    await done;
    assert.equal(res.status, 200);
  });

  it('ForwardedHeaders builds its map only when asked, once', () => {
    const raw = ['A', '1', 'b', '2'];
    const headers = new ForwardedHeaders(raw, 'x-secret');
    raw.push('C', '3'); // not read yet: a header added before the first question is seen
    assert.equal(headers.get('c'), '3');
    raw.push('D', '4'); // read already: the map is not built again
    assert.equal(headers.get('d'), undefined);
    const visited: string[] = [];
    headers.forEach((value, key, map) => visited.push(`${key}=${value}:${map === headers}`));
    assert.deepEqual(visited, ['a=1:true', 'b=2:true', 'c=3:true']);
    assert.deepEqual([...headers], [['a', '1'], ['b', '2'], ['c', '3']]);
    assert.deepEqual([...headers.entries()], [...headers]);
    assert.deepEqual([...headers.values()], ['1', '2', '3']);
  });
});

describe('over a socket', () => {
  const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  async function serve(): Promise<number> {
    const { handle } = endpoint(dispatcher().dispatcher);
    const server = createServer((req, res) => void handle(req, res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** Writes `requests` on one connection and reads until `answers` answers have come or it closes. */
  async function exchange(port: number, requests: string, answers: number): Promise<string> {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    return new Promise((resolve, reject) => {
      socket.on('data', (d) => {
        text += d.toString();
        if ((text.match(/HTTP\/1\.1 /g) ?? []).length >= answers && /\r\n\r\n[^]*\}$/.test(text)) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(requests);
    });
  }

  const request = (body: string) =>
    `POST /centrifugo/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Proxy-Secret: ${SECRET}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it('a refused body that was read whole keeps the connection: the next request on it is answered', async () => {
    const port = await serve();
    const text = await exchange(port, request('{not json') + request(SUBSCRIBE.toString()), 2);
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, text);
    assert.match(answers[0] as string, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(answers[0] as string, /connection: close/i);
    assert.match(answers[0] as string, /\{"error":"body is not valid JSON"\}$/);
    assert.match(answers[1] as string, /^HTTP\/1\.1 200 [^]*\r\n\r\n\{"result":\{\}\}$/);
  });

  it('pipelined requests are each answered in order', async () => {
    const port = await serve();
    const text = await exchange(port, request(SUBSCRIBE.toString()).repeat(3), 3);
    assert.equal(text.match(/HTTP\/1\.1 200 /g)?.length, 3);
  });
});
