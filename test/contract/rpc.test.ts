/**
 * RPC routes against real upstreams on random ports, every case over HTTP and GRPC: matching
 * (exact, prefix, namespace form), what the upstream receives, schema checks, policy before any
 * call, timeouts, retries, concurrency limit, the breaker, and routes reloaded from the config file.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { grpcToJson, jsonToGrpcRequest, ROOT, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

interface Call {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** An upstream that records every call; its answer depends on the path. */
async function startUpstream() {
  const calls: Call[] = [];
  let flakyFailures = 0;
  let hold: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      calls.push({ path, headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path === '/slow') setTimeout(() => json(200, { late: true }), 800);
      else if (path === '/crash') json(500, { oops: true });
      else if (path === '/flaky') {
        const fail = flakyFailures > 0;
        flakyFailures -= 1;
        json(fail ? 503 : 200, fail ? {} : { ok: true });
      }
      else if (path === '/hold') hold.push(() => json(200, { held: true }));
      else json(200, { path, method: req.headers['x-centrifugo-method'], params: body === '' ? null : JSON.parse(body) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    failNext: (n: number) => void (flakyFailures = n),
    release: () => {
      for (const r of hold) r();
      hold = [];
    },
    held: () => hold.length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const member = ['role:member'];
const rpcBody = (method: string, data: unknown = {}, roles = member, user = '56') =>
  JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user, method, data, meta: { roles } });

/** The same call over HTTP and GRPC; both answers must be the same; returns the HTTP body. */
async function call(h: Harness, body: string, headers: Record<string, string> = {}): Promise<string> {
  const http = await h.http('/centrifugo/rpc', body, headers);
  assert.equal(http.status, 200);
  const grpc = await h.call('RPC', jsonToGrpcRequest(body), headers);
  assert.deepEqual(grpcToJson(grpc), JSON.parse(http.body), 'GRPC answer equals HTTP answer');
  return http.body;
}

const routesYaml = (up: string, extra = '') => `
rpc:
  breaker: { failures: 20, cooldown: 300ms }
  routes:
    - { method: tasks.get_stats, upstream: "${up}/exact", headers: [x-request-id] }
    - method: tasks.create
      upstream: "${up}/create"
      params_schema: { type: object, required: [title], properties: { title: { type: string, minLength: 1 }, priority: { type: integer } } }
    - { method: "tasks.*", upstream: "${up}/prefix" }
    - { method: "ledger:*", upstream: "${up}/namespace" }
    - { method: reports.slow, upstream: "${up}/slow", timeout: 300ms }
    - { method: reports.flaky, upstream: "${up}/flaky", idempotent: true, retries: 2 }
    - { method: reports.flaky_unsafe, upstream: "${up}/flaky" }
    - { method: reports.hold, upstream: "${up}/hold", max_concurrency: 1 }
    - { method: reports.typed_ok, upstream: "${up}/typed", result_check: refuse, result_schema: { type: object, required: [path], properties: { path: { type: string } } } }
    - { method: reports.typed_log, upstream: "${up}/typed", result_check: log, result_schema: { type: object, required: [id], properties: { id: { type: string } } } }
    - { method: reports.typed_refuse, upstream: "${up}/typed", result_check: refuse, result_schema: { type: object, required: [id], properties: { id: { type: string } } } }
    - { method: reports.typed_off, upstream: "${up}/typed", result_schema: { type: object, required: [id] } }
${extra}`;

const policyLines = 'p, role:member, ledger:*, rpc, allow\np, role:member, reports.*, rpc, allow\n';

describe('rpc routes', () => {
  let up: Awaited<ReturnType<typeof startUpstream>>;
  let h: Harness;

  before(async () => {
    up = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'cpp-rpc-'));
    copyFileSync(`${ROOT}/policies/model.conf`, join(dir, 'model.conf'));
    writeFileSync(join(dir, 'policy.csv'), readFileSync(`${ROOT}/policies/policy.csv`, 'utf8') + policyLines);
    const yaml = testConfigYaml(routesYaml(up.url)).replace(`${ROOT}/policies/model.conf`, join(dir, 'model.conf')).replace(`${ROOT}/policies/policy.csv`, join(dir, 'policy.csv'));
    h = await startHarness(yaml);
  });
  after(async () => {
    await h?.stop();
    await up?.close();
  });

  it('exact, prefix and namespace routes; first match wins', async () => {
    assert.equal(await call(h, rpcBody('tasks.get_stats', { project: 7 })), '{"result":{"data":{"path":"/exact","method":"tasks.get_stats","params":{"project":7}}}}');
    assert.equal(await call(h, rpcBody('tasks.list')), '{"result":{"data":{"path":"/prefix","method":"tasks.list","params":{}}}}');
    assert.equal(await call(h, rpcBody('ledger:invoices')), '{"result":{"data":{"path":"/namespace","method":"ledger:invoices","params":{}}}}');
  });

  it('params failing the schema in several places: every failing path is named', async () => {
    const answer = await call(h, rpcBody('tasks.create', { priority: 'high' }));
    assert.equal(answer, '{"error":{"code":400,"message":"bad request: / must have property \\"title\\"; /priority must be integer"}}');
  });

  it('result_check: a matching answer passes; a mismatch is passed on and counted (log) or refused with 502 (refuse); off checks nothing', async () => {
    const mismatches = async (action: string) =>
      (await h.app.metrics.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('cpp_rpc_result_mismatches_total{') && l.includes(`action="${action}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    const [loggedBefore, refusedBefore] = [await mismatches('logged'), await mismatches('refused')];
    assert.equal(await call(h, rpcBody('reports.typed_ok')), '{"result":{"data":{"path":"/typed","method":"reports.typed_ok","params":{}}}}');
    assert.equal(await call(h, rpcBody('reports.typed_log')), '{"result":{"data":{"path":"/typed","method":"reports.typed_log","params":{}}}}');
    assert.equal(await call(h, rpcBody('reports.typed_refuse')), '{"error":{"code":502,"message":"bad gateway","temporary":true}}');
    assert.equal(await call(h, rpcBody('reports.typed_off')), '{"result":{"data":{"path":"/typed","method":"reports.typed_off","params":{}}}}');
    // Each call() goes over HTTP and GRPC: two answers per method.
    assert.equal((await mismatches('logged')) - loggedBefore, 2);
    assert.equal((await mismatches('refused')) - refusedBefore, 2);
  });

  it('the upstream gets the data as body, the identity headers and only allow-listed headers', async () => {
    up.calls.length = 0;
    await call(h, rpcBody('tasks.get_stats', { project: 7 }), { 'x-request-id': 'req-1', 'x-secret-cookie': 'nope', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    assert.equal(up.calls.length, 2);
    for (const c of up.calls) {
      assert.equal(c.body, '{"project":7}');
      assert.equal(c.headers['x-centrifugo-user'], '56');
      assert.equal(c.headers['x-centrifugo-client'], 'c1');
      assert.equal(c.headers['x-centrifugo-method'], 'tasks.get_stats');
      assert.equal(c.headers['x-centrifugo-roles'], '["role:member"]');
      assert.equal(c.headers['x-centrifugo-meta'], '{"roles":["role:member"]}');
      assert.equal(c.headers['x-request-id'], 'req-1');
      assert.equal(c.headers['x-secret-cookie'], undefined, 'not allow-listed');
      assert.equal(c.headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    }
  });

  it('params that fail the schema are refused with the failing path, before any upstream call', async () => {
    up.calls.length = 0;
    assert.equal(await call(h, rpcBody('tasks.create', { title: '' })), '{"error":{"code":400,"message":"bad request: /title must NOT have fewer than 1 characters"}}');
    assert.equal(await call(h, rpcBody('tasks.create', { priority: 3 })), '{"error":{"code":400,"message":"bad request: / must have property \\"title\\""}}');
    assert.equal(up.calls.length, 0);
    assert.equal(await call(h, rpcBody('tasks.create', { title: 'x', priority: 2 })), '{"result":{"data":{"path":"/create","method":"tasks.create","params":{"title":"x","priority":2}}}}');
  });

  it('a denied call never reaches the upstream', async () => {
    up.calls.length = 0;
    assert.equal(await call(h, rpcBody('tasks.get_stats', {}, ['role:guest'])), '{"error":{"code":403,"message":"permission denied"}}');
    assert.equal(up.calls.length, 0);
  });

  it('a slow upstream is a 504 within the route timeout plus a small margin', async () => {
    const started = Date.now();
    const answer = await h.http('/centrifugo/rpc', rpcBody('reports.slow'));
    const took = Date.now() - started;
    assert.equal(answer.body, '{"error":{"code":504,"message":"upstream timeout","temporary":true}}');
    assert.ok(took >= 290 && took < 450, `answered after ${took} ms for a 300 ms timeout`);
  });

  it('an idempotent route retries a failing upstream; a non-idempotent one does not', async () => {
    up.failNext(2);
    up.calls.length = 0;
    assert.equal((await h.http('/centrifugo/rpc', rpcBody('reports.flaky'))).body, '{"result":{"data":{"ok":true}}}');
    assert.equal(up.calls.length, 3, 'two failures, then success');
    up.failNext(1);
    up.calls.length = 0;
    assert.equal((await h.http('/centrifugo/rpc', rpcBody('reports.flaky_unsafe'))).body, '{"error":{"code":502,"message":"bad gateway","temporary":true}}');
    assert.equal(up.calls.length, 1);
  });

  it('over the concurrency limit: 429 at once, temporary', async () => {
    const first = h.http('/centrifugo/rpc', rpcBody('reports.hold'));
    for (let i = 0; i < 200 && up.held() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(up.held(), 1, 'the first call is in flight');
    assert.equal(await call(h, rpcBody('reports.hold')), '{"error":{"code":429,"message":"too many requests","temporary":true}}');
    up.release();
    assert.equal((await first).body, '{"result":{"data":{"held":true}}}');
  });
});

describe('rpc breaker and route reload', () => {
  it('the breaker opens after repeated failures (then no upstream call), and closes when a probe succeeds', async () => {
    const up = await startUpstream();
    const h = await startHarness(
      testConfigYaml(`
rpc:
  breaker: { failures: 3, cooldown: 300ms }
  routes:
    - { method: "tasks.*", upstream: "${up.url}/flaky" }`),
    );
    try {
      up.failNext(3);
      for (let i = 0; i < 3; i++) assert.equal((await h.http('/centrifugo/rpc', rpcBody('tasks.x'))).body, '{"error":{"code":502,"message":"bad gateway","temporary":true}}');
      assert.equal(up.calls.length, 3);
      // Open: answered at once as unavailable, the upstream is not called.
      assert.equal(await call(h, rpcBody('tasks.x')), '{"error":{"code":503,"message":"upstream unavailable","temporary":true}}');
      assert.equal(up.calls.length, 3);
      const open = await (await fetch(`${h.httpUrl}/metrics`)).text();
      assert.match(open, new RegExp(`cpp_upstream_breaker_state\\{route="tasks\\.\\*",upstream="${up.url}/flaky",state="open"\\} 1`));
      // After the cooldown one probe goes through; the upstream is back, so the breaker closes.
      await new Promise((r) => setTimeout(r, 320));
      assert.equal(await call(h, rpcBody('tasks.x')), '{"result":{"data":{"ok":true}}}');
      assert.equal(up.calls.length, 5);
      const closed = await (await fetch(`${h.httpUrl}/metrics`)).text();
      assert.match(closed, new RegExp(`cpp_upstream_breaker_state\\{route="tasks\\.\\*",upstream="${up.url}/flaky",state="closed"\\} 1`));
    } finally {
      await h.stop();
      await up.close();
    }
  });

  it('editing rpc.routes in the config file applies without restart; a bad edit keeps the old routes', async () => {
    const up = await startUpstream();
    const before = `
rpc:
  routes:
    - { method: "tasks.*", upstream: "${up.url}/v1" }`;
    const yaml = testConfigYaml(before);
    const h = await startHarness(yaml);
    try {
      assert.equal(await call(h, rpcBody('tasks.a')), '{"result":{"data":{"path":"/v1","method":"tasks.a","params":{}}}}');
      const configFile = h.configFile;
      writeFileSync(configFile, yaml.replace(`${up.url}/v1`, `${up.url}/v2`));
      const deadline = Date.now() + 2000;
      let body = '';
      while (Date.now() < deadline) {
        body = (await h.http('/centrifugo/rpc', rpcBody('tasks.a'))).body;
        if (body.includes('/v2')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(body, '{"result":{"data":{"path":"/v2","method":"tasks.a","params":{}}}}');
      writeFileSync(configFile, yaml.replace(`${up.url}/v1`, 'not a url'));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await call(h, rpcBody('tasks.a')), '{"result":{"data":{"path":"/v2","method":"tasks.a","params":{}}}}');
      const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
      assert.match(metrics, /cpp_rpc_route_reloads_total\{result="failed"\} [1-9]/);
    } finally {
      await h.stop();
      await up.close();
    }
  });
});

describe('types command', () => {
  it('declares every route with a schema: params, result, and prefix routes as template literal keys', async () => {
    const { routeTypes } = await import('../../src/cli/commands/types.js');
    const { configSchema } = await import('../../src/config/schema.js');
    const config = configSchema.parse({
      rpc: {
        routes: [
          { method: 'tasks.create', upstream: 'http://x/rpc', params_schema: { type: 'object', required: ['title'], properties: { title: { type: 'string' } } }, result_schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
          { method: 'reports.*', upstream: 'http://x/rpc', params_schema: { type: 'object', properties: { from: { type: 'string' } } } },
          { method: 'untyped', upstream: 'http://x/rpc' },
        ],
      },
    });
    const text = await routeTypes(config.rpc.routes, 'config.yaml');
    assert.ok(text.includes('export interface TasksCreateParams {\n  title: string;\n}'), text);
    assert.ok(text.includes('export interface TasksCreateResult {\n  id: string;\n}'), text);
    assert.ok(text.includes('export type ReportsAnyResult = unknown;'), text);
    assert.ok(text.includes('  "tasks.create": { params: TasksCreateParams; result: TasksCreateResult };'), text);
    assert.ok(text.includes('  [method: `reports.${string}`]: { params: ReportsAnyParams; result: ReportsAnyResult };'), text);
    assert.ok(!text.includes('untyped'));
  });
});
