/**
 * Traces reach a real OTLP/HTTP receiver (JSON protocol): one span per event with its
 * attributes, parented by the traceparent Centrifugo forwards (HTTP header and GRPC metadata),
 * with child spans for the policy decision, JWT verification, Redis calls and the upstream RPC
 * call, which carries the trace on; log lines of a traced request carry its ids. Contexts are
 * passed explicitly (no AsyncLocalStorage), so these links are what proves the plumbing.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startTracing, stopTracing } from '../../src/telemetry/tracing.js';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { logCapture } from '../helpers/log-capture.js';
import { attr, listen, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { dropPrefix, REDIS_URL, redisClient, uniquePrefix } from '../helpers/redis.js';
import { HMAC_SECRET, nowSeconds, signJwt } from '../helpers/tokens.js';

const upstreamHeaders: Array<Record<string, unknown>> = [];
let receiver: OtlpReceiver;
let upstream: Server;
let h: Harness;
/** A second service with Redis, HS256 tokens and a log the test reads. */
let withRedis: Harness;
const { lines: logLines, stream: logStream } = logCapture();
const prefix = uniquePrefix();

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const traceparent = `00-${TRACE}-${PARENT}-01`;


describe('tracing to an OTLP/HTTP receiver', () => {
  before(async () => {
    upstream = createServer((req, res) => {
      upstreamHeaders.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    receiver = await startOtlpReceiver();
    const endpoint = receiver.endpoint;
    const up = await listen(upstream);
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
    Object.assign(process.env, env);
    assert.equal(await startTracing(process.env), true);
    h = await startHarness(testConfigYaml(`rpc:\n  routes:\n    - { method: "tasks.*", upstream: "${up}/rpc" }`));
    withRedis = await startHarness(
      testConfigYaml(`
auth:
  jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" }
cache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}" }
`),
      { log: pino({ level: 'info' }, logStream) },
    );
  });
  after(async () => {
    await h?.stop();
    await withRedis?.stop();
    const redis = redisClient();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await stopTracing();
    receiver?.close();
    upstream?.close();
  });

  it('HTTP subscribe: an event span parented by the forwarded traceparent, with its attributes and a policy child span for the evaluation', async () => {
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:lobby', meta: { roles: ['role:member'] } });
    assert.equal((await h.http('/centrifugo/subscribe', body, { traceparent })).body, '{"result":{}}');
    const found = await receiver.spansFor(TRACE, 2);
    const event = found.find((s) => s.name === 'centrifugo.proxy subscribe');
    assert.ok(event, `spans: ${found.map((s) => s.name).join(', ')}`);
    assert.equal(event.parentSpanId, PARENT);
    assert.equal(attr(event, 'centrifugo.event'), 'subscribe');
    assert.equal(attr(event, 'centrifugo.transport'), 'http');
    assert.equal(attr(event, 'centrifugo.channel'), 'chat:lobby');
    assert.equal(attr(event, 'centrifugo.decision'), 'result');
    assert.equal(attr(event, 'policy.version'), h.app.policy.current().version);
    assert.ok(['none', 'memory'].includes(String(attr(event, 'cache.tier'))));
    assert.equal(attr(event, 'enduser.id'), undefined, 'user IDs only with telemetry.include_user');
    const policy = found.find((s) => s.name === 'policy.evaluate');
    assert.equal(policy?.parentSpanId, event.spanId);
  });

  it('the event span carries the policy answer whether the decision was cached or fresh', async () => {
    const ask = async (trace: string, user: string, channel: string) => {
      const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, meta: { roles: ['role:guest'] } });
      await h.http('/centrifugo/subscribe', body, { traceparent: `00-${trace}-${PARENT}-01` });
      const event = (await receiver.spansFor(trace, 1)).find((s) => s.name === 'centrifugo.proxy subscribe');
      assert.ok(event);
      return [attr(event, 'cache.tier'), attr(event, 'policy.allowed'), attr(event, 'policy.allowed.subscribe')];
    };
    const table: Array<[string, string, string, unknown[]]> = [
      ['e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1', '91', 'chat:lobby', ['none', true, true]],
      ['e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2', '91', 'chat:lobby', ['memory', true, true]],
      ['e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3', '91', 'chat:room', ['none', false, false]],
      ['e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4', '91', 'chat:room', ['memory', false, false]],
    ];
    for (const [trace, user, channel, expected] of table) assert.deepEqual(await ask(trace, user, channel), expected, `${trace} ${channel}`);
  });

  it('GRPC rpc: the traceparent in metadata is the parent; the upstream call is a child span and carries the trace', async () => {
    const trace = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', method: 'tasks.list', data: {}, meta: { roles: ['role:member'] } });
    await h.call('RPC', jsonToGrpcRequest(body), { traceparent: `00-${trace}-${PARENT}-01` });
    const found = await receiver.spansFor(trace, 3);
    const event = found.find((s) => s.name === 'centrifugo.proxy rpc');
    const call = found.find((s) => s.name === 'rpc.upstream');
    assert.ok(event && call, `spans: ${found.map((s) => s.name).join(', ')}`);
    assert.equal(event.parentSpanId, PARENT);
    assert.equal(attr(event, 'centrifugo.transport'), 'grpc');
    assert.equal(attr(event, 'rpc.method'), 'tasks.list');
    assert.equal(call.parentSpanId, event.spanId);
    const sent = String(upstreamHeaders.at(-1)?.traceparent);
    assert.equal(sent, `00-${trace}-${call.spanId}-01`, 'the upstream sees our upstream-call span as its parent');
  });

  for (const transport of ['http', 'grpc'] as const) {
    it(`${transport} rpc the parent's flags sample out: no span, and the upstream gets Centrifugo's traceparent unchanged`, async () => {
      const trace = transport === 'http' ? 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0' : 'f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1';
      const unsampled = `00-${trace}-${PARENT}-00`;
      const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', method: 'tasks.list', data: {}, meta: { roles: ['role:member'] } });
      if (transport === 'http') assert.equal((await h.http('/centrifugo/rpc', body, { traceparent: unsampled })).body, '{"result":{"data":{"ok":true}}}');
      else await h.call('RPC', jsonToGrpcRequest(body), { traceparent: unsampled });
      assert.equal(upstreamHeaders.at(-1)?.traceparent, unsampled);
      // A sampled request after it is exported, so the exporter had its chance to send the first.
      const marker = transport === 'http' ? 'f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2' : 'f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3';
      await h.http('/centrifugo/rpc', body, { traceparent: `00-${marker}-${PARENT}-01` });
      await receiver.spansFor(marker, 2);
      assert.deepEqual(await receiver.spansFor(trace, 0), []);
    });
  }

  it('HTTP connect with Redis: JWT verification and every Redis call are children of the event span', async () => {
    const trace = 'cccccccccccccccccccccccccccccccc';
    const token = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: '77', exp: nowSeconds() + 3600 }, { alg: 'HS256', secret: HMAC_SECRET });
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token } });
    const answer = await withRedis.http('/centrifugo/connect', body, { traceparent: `00-${trace}-${PARENT}-01` });
    assert.match(answer.body, /^\{"result":\{"user":"77"/);
    // event, token_get, jwt.verify, get + set (connect decision), policy.evaluate; revocations
    // come from the in-memory mirror, so they make no Redis call.
    const found = await receiver.spansFor(trace, 6);
    const event = found.find((s) => s.name === 'centrifugo.proxy connect');
    assert.ok(event, `spans: ${found.map((s) => s.name).join(', ')}`);
    assert.equal(event.parentSpanId, PARENT);
    for (const name of ['jwt.verify', 'redis token_get', 'redis get', 'redis set', 'policy.evaluate']) {
      const child = found.find((s) => s.name === name);
      assert.equal(child?.parentSpanId, event.spanId, `${name} is a child of the event span (spans: ${found.map((s) => s.name).join(', ')})`);
    }
  });

  it('a deny in a traced request: the decision log line carries its trace and span ids', async () => {
    const trace = 'dddddddddddddddddddddddddddddddd';
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '666', channel: 'chat:lobby', data: { text: 'hi' }, meta: { roles: ['role:member'] } });
    const answer = await withRedis.http('/centrifugo/publish', body, { traceparent: `00-${trace}-${PARENT}-01` });
    assert.equal(answer.body, '{"error":{"code":403,"message":"permission denied"}}');
    const [event] = (await receiver.spansFor(trace, 1)).filter((s) => s.name === 'centrifugo.proxy publish');
    assert.ok(event);
    const line = logLines.find((l) => l.msg === 'decision' && l.user === '666');
    assert.ok(line, 'a decision log line for the deny');
    assert.equal(line.trace_id, trace);
    assert.equal(line.span_id, event.spanId);
    assert.equal(line.decision, 'deny');
  });

  it("a handler's own log line in a traced request carries the trace id", async () => {
    const trace = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: 'not.a.jwt' } });
    const answer = await withRedis.http('/centrifugo/connect', body, { traceparent: `00-${trace}-${PARENT}-01` });
    assert.equal(answer.body, '{"disconnect":{"code":4501,"reason":"unauthorized"}}');
    const line = logLines.find((l) => l.msg === 'connect refused: invalid token' && l.trace_id === trace);
    assert.ok(line, `log lines: ${JSON.stringify(logLines.map((l) => [l.msg, l.trace_id]))}`);
    assert.equal(line.event, 'connect');
  });
});
