/**
 * admin.enabled puts /metrics and the detailed /readyz on their own listener: the proxy port then
 * answers only the proxy endpoints, /healthz and a bare /readyz (status and reason). Off (the
 * default), everything stays on http.port (test/contract/bad-input.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { freePort } from '../helpers/ports.js';
import { startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

describe('admin endpoints on their own listener', () => {
  let h: Harness;
  let admin: string;

  before(async () => {
    const port = await freePort();
    admin = `http://127.0.0.1:${port}`;
    h = await startHarness(testConfigYaml(`admin: { enabled: true, host: 127.0.0.1, port: ${port} }`));
  });
  after(() => h.stop());

  it('the proxy port: /healthz, a bare /readyz, no /metrics', async () => {
    assert.deepEqual(await get(`${h.httpUrl}/healthz`), { status: 200, body: '{"status":"ok"}' });
    assert.deepEqual(await get(`${h.httpUrl}/readyz`), { status: 200, body: '{"status":"ready"}' });
    assert.deepEqual(await get(`${h.httpUrl}/metrics`), { status: 404, body: '{"error":"not found"}' });
  });

  it('the admin port: /metrics, the detailed /readyz, /healthz; nothing else', async () => {
    const metrics = await get(`${admin}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /cpp_policy_info\{version="[0-9a-f]{12}"\} 1/);
    assert.deepEqual(await get(`${admin}/readyz`), { status: 200, body: JSON.stringify({ status: 'ready', policy_version: h.app.policy.current().version }) });
    assert.deepEqual(await get(`${admin}/healthz`), { status: 200, body: '{"status":"ok"}' });
    assert.deepEqual(await get(`${admin}/centrifugo/connect`), { status: 404, body: '{"error":"not found"}' });
  });

  it('not ready: the proxy port says why, the admin port adds the details', async () => {
    h.app.state.markDraining();
    assert.deepEqual(await get(`${h.httpUrl}/readyz`), { status: 503, body: '{"status":"not ready","reason":"shutting down"}' });
    assert.deepEqual(await get(`${admin}/readyz`), {
      status: 503,
      body: JSON.stringify({ status: 'not ready', reason: 'shutting down', policy_version: h.app.policy.current().version }),
    });
  });
});

describe('admin config', () => {
  it('admin.port must differ from the proxy ports', () => {
    const yaml = 'http: { port: 3000 }\nadmin: { enabled: true, port: 3000 }';
    assert.throws(() => parseConfig(yaml, writeConfig(yaml)), /admin\.port: must differ from http\.port, grpc\.port and policy_page\.port/);
  });

  it('off by default, on 0.0.0.0:9090 when enabled without an address', () => {
    assert.deepEqual(configSchema.parse({}).admin, { enabled: false, host: '0.0.0.0', port: 9090 });
    assert.deepEqual(configSchema.parse({ admin: { enabled: true } }).admin, { enabled: true, host: '0.0.0.0', port: 9090 });
  });
});
