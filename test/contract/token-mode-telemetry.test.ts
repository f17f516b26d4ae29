/**
 * Token mode's telemetry: a span per request (parented by the caller's traceparent) with the
 * JWT, policy and Centrifugo API calls as children, the Centrifugo call carrying the trace on;
 * decision-log lines for denies as for proxied events; refusal lines without secrets.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startTracing, stopTracing } from '../../src/telemetry/tracing.js';
import { logCapture } from '../helpers/log-capture.js';
import { attr, listen, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { HMAC_SECRET, nowSeconds, signJwt } from '../helpers/tokens.js';

const API_KEY = 'telemetry-backend-key-0123456789';
const PARENT = 'b7ad6b7169203331';
const { lines: logLines, stream: logStream } = logCapture();
const centrifugoHeaders: IncomingMessage['headers'][] = [];
let receiver: OtlpReceiver;
let centrifugo: Server;
let h: Harness;

const userToken = (sub: string, roles: string[] = []) =>
  signJwt({ alg: 'HS256', typ: 'JWT' }, { sub, exp: nowSeconds() + 600, ...(roles.length ? { roles } : {}) }, { alg: 'HS256', secret: HMAC_SECRET });

describe('token mode telemetry', () => {
  before(async () => {
    centrifugo = createServer((req, res) => {
      centrifugoHeaders.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}'));
    });
    receiver = await startOtlpReceiver();
    const endpoint = receiver.endpoint;
    const api = await listen(centrifugo);
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_TRACES_SAMPLER: 'parentbased_always_on' });
    assert.equal(await startTracing(process.env), true);
    h = await startHarness(
      testConfigYaml(`
auth:
  jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" }
token_mode:
  enabled: true
  connection: { hmac_secret: "centrifugo-side-secret-0123456789abcdef" }
  publish:
    api_keys: [{ key: ${API_KEY}, subject: "backend:telemetry", roles: ["role:admin"] }]
    centrifugo_url: ${api}/api
    centrifugo_api_key: c-key
`),
      { log: pino({ level: 'info' }, logStream) },
    );
  });
  after(async () => {
    await h?.stop();
    await stopTracing();
    receiver?.close();
    centrifugo?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${h.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('minting: a token_api span under the caller traceparent, with jwt.verify and policy.evaluate children', async () => {
    const trace = '1af7651916cd43dd8448eb211c80319c';
    const response = await post('/api/subscription-token', { channel: 'chat:room' }, { authorization: `Bearer ${userToken('56', ['role:member'])}`, traceparent: `00-${trace}-${PARENT}-01` });
    assert.equal(response.status, 200);
    const found = await receiver.spansFor(trace, 3);
    const span = found.find((s) => s.name === 'token_api subscription_token');
    assert.ok(span, `spans: ${found.map((s) => s.name).join(', ')}`);
    assert.equal(span.parentSpanId, PARENT);
    assert.equal(attr(span, 'http.response.status_code'), 200);
    assert.equal(attr(span, 'token_api.outcome'), 'ok');
    assert.equal(attr(span, 'enduser.id'), undefined, 'user IDs only with telemetry.include_user');
    for (const child of ['jwt.verify', 'policy.evaluate']) assert.equal(found.find((s) => s.name === child)?.parentSpanId, span.spanId, child);
  });

  it('publish: the Centrifugo call is a child span and carries the trace to Centrifugo', async () => {
    const trace = '2af7651916cd43dd8448eb211c80319c';
    assert.equal((await post('/api/publish', { channel: 'chat:room', data: 1 }, { 'x-api-key': API_KEY, traceparent: `00-${trace}-${PARENT}-01` })).status, 200);
    const found = await receiver.spansFor(trace, 2);
    const span = found.find((s) => s.name === 'token_api publish');
    const call = found.find((s) => s.name === 'centrifugo.api');
    assert.ok(span && call, `spans: ${found.map((s) => s.name).join(', ')}`);
    assert.equal(call.parentSpanId, span.spanId);
    assert.equal(attr(call, 'centrifugo.api.method'), 'publish');
    assert.match(String(centrifugoHeaders.at(-1)?.traceparent), new RegExp(`^00-${trace}-${call.spanId}-01$`));
  });

  it('a denied mint writes the decision log line and a refusal line, never the token', async () => {
    const token = userToken('57');
    assert.equal((await post('/api/subscription-token', { channel: 'chat:secret' }, { authorization: `Bearer ${token}` })).status, 403);
    const decision = logLines.find((l) => l.msg === 'decision' && l.user === '57');
    assert.ok(decision, 'decision log line');
    assert.deepEqual([decision.decision, decision.action, decision.object, decision.rule], ['deny', 'subscribe', 'chat:secret', 'no rule matched (default deny)']);
    const refused = logLines.find((l) => l.msg === 'token mode request refused' && l.user === '57');
    assert.deepEqual([refused?.endpoint, refused?.status, refused?.reason], ['subscription_token', 403, 'policy denies subscribe']);
    assert.ok(!JSON.stringify(logLines).includes(token), 'the user token never reaches a log line');
    assert.ok(!JSON.stringify(logLines).includes(API_KEY), 'nor an API key');
  });
});
