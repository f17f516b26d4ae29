/**
 * Traces reach a real OTLP/HTTP receiver (JSON protocol): one span per event with its
 * attributes, parented by the traceparent Centrifugo forwards (HTTP header and GRPC metadata),
 * with child spans for the policy decision and the upstream RPC call, which carries the trace on.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTracing, stopTracing } from '../../src/telemetry/tracing.js';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

const spans: OtlpSpan[] = [];
const upstreamHeaders: Array<Record<string, unknown>> = [];
let receiver: Server;
let upstream: Server;
let h: Harness;

const attr = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const traceparent = `00-${TRACE}-${PARENT}-01`;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function spansFor(trace: string, count: number): Promise<OtlpSpan[]> {
  for (let i = 0; i < 100; i++) {
    const found = spans.filter((s) => s.traceId === trace);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return spans.filter((s) => s.traceId === trace);
}

describe('tracing to an OTLP/HTTP receiver', () => {
  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const payload = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
          for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    upstream = createServer((req, res) => {
      upstreamHeaders.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    const endpoint = await listen(receiver);
    const up = await listen(upstream);
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
    Object.assign(process.env, env);
    assert.equal(await startTracing(process.env), true);
    h = await startHarness(testConfigYaml(`rpc:\n  routes:\n    - { method: "tasks.*", upstream: "${up}/rpc" }`));
  });
  after(async () => {
    await h?.stop();
    await stopTracing();
    receiver?.close();
    upstream?.close();
  });

  it('HTTP subscribe: an event span parented by the forwarded traceparent, with its attributes and a policy child span for the evaluation', async () => {
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:lobby', meta: { roles: ['role:member'] } });
    assert.equal((await h.http('/centrifugo/subscribe', body, { traceparent })).body, '{"result":{}}');
    const found = await spansFor(TRACE, 2);
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

  it('GRPC rpc: the traceparent in metadata is the parent; the upstream call is a child span and carries the trace', async () => {
    const trace = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', method: 'tasks.list', data: {}, meta: { roles: ['role:member'] } });
    await h.call('RPC', jsonToGrpcRequest(body), { traceparent: `00-${trace}-${PARENT}-01` });
    const found = await spansFor(trace, 3);
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
});
