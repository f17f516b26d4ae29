/**
 * Rotating the caller secret: caller_auth.secret takes a list, any entry is accepted on both
 * transports, anything else is refused (HTTP 401 / GRPC UNAUTHENTICATED); a plain string works
 * as before. Empty entries (an unset `${PROXY_SECRET_OLD:-}`) do not open the door. The secret
 * never reaches an rpc upstream, even through a route that lists its header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callerCheck } from '../../src/transport/caller-auth.js';
import { parseConfig } from '../../src/config/load.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/echo-upstream.js';
import { jsonToGrpcRequest, startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';

const OLD = 'rotation-old-secret-0123456789';
const NEW = 'rotation-new-secret-9876543210';
const body = JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:a', meta: { roles: ['role:member'] } });
const ALLOWED = '{"result":{}}';
const REFUSED = '{"error":"caller authentication failed"}';

async function both(h: Harness, secret: string | undefined): Promise<{ http: string; grpc: string }> {
  const headers: Record<string, string> = secret === undefined ? {} : { 'x-proxy-secret': secret };
  const http = await h.http('/centrifugo/subscribe', body, headers);
  const grpc = await h.call('Subscribe', jsonToGrpcRequest(body), headers).then(
    (v) => JSON.stringify(v),
    (err: { code: number; details: string }) => `${err.code} ${err.details}`,
  );
  return { http: `${http.status} ${http.body}`, grpc };
}

describe('caller secret rotation over HTTP and GRPC', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(testConfigYaml(`caller_auth: { secret: ["${OLD}", "${NEW}", ""] }`));
  });
  after(() => h.stop());

  const cases = [
    { note: 'the old secret is accepted', secret: OLD, http: `200 ${ALLOWED}`, grpc: ALLOWED },
    { note: 'the new secret is accepted', secret: NEW, http: `200 ${ALLOWED}`, grpc: ALLOWED },
    { note: 'another secret is refused', secret: `${NEW}x`, http: `401 ${REFUSED}`, grpc: '16 caller authentication failed' },
    { note: 'an empty secret is refused (the empty entry is ignored)', secret: '', http: `401 ${REFUSED}`, grpc: '16 caller authentication failed' },
    { note: 'no secret is refused', secret: undefined, http: `401 ${REFUSED}`, grpc: '16 caller authentication failed' },
  ];
  for (const c of cases) {
    it(c.note, async () => {
      assert.deepEqual(await both(h, c.secret), { http: c.http, grpc: c.grpc });
    });
  }
});

describe('caller secret forms', () => {
  it('a single string keeps working', () => {
    const check = callerCheck(OLD);
    assert.deepEqual([check(OLD), check(NEW), check(undefined)], [true, false, false]);
  });

  it('a list of only empty entries means no caller authentication, like ""', () => {
    assert.equal(callerCheck(['', '']).call(undefined, undefined), true);
  });

  it('each listed secret must be at least 16 bytes, named by its index', () => {
    const yaml = `caller_auth: { secret: ["${NEW}", "short"] }`;
    assert.throws(() => parseConfig(yaml, writeConfig(yaml)), /caller_auth\.secret\[1\]: must be at least 16 bytes/);
  });
});

describe('the caller secret reaches no upstream', () => {
  let h: Harness;
  let upstream: RecordingUpstream;
  before(async () => {
    upstream = await startRecordingUpstream();
    // A route that lists the caller header among those it forwards, next to one that is forwarded.
    h = await startHarness(testConfigYaml(`caller_auth: { secret: "${NEW}" }\nrpc: { watch: false, routes: [ { method: "tasks.*", upstream: "${upstream.url}", headers: [X-Proxy-Secret, x-team] } ] }`));
  });
  after(async () => {
    await h?.stop();
    await upstream?.close();
  });

  const rpc = JSON.stringify({ client: 'c1', user: '56', method: 'tasks.list', data: {}, meta: { roles: ['role:member'] } });
  it("over HTTP and GRPC, even when a route lists its header; the route's other headers are forwarded", async () => {
    const http = await h.http('/centrifugo/rpc', rpc, { 'x-proxy-secret': NEW, 'x-team': 'blue' });
    assert.deepEqual([http.status, http.body], [200, '{"result":{"data":{"ok":true}}}']);
    await h.call('RPC', jsonToGrpcRequest(rpc), { 'x-proxy-secret': NEW, 'x-team': 'blue' });
    assert.equal(upstream.seen.length, 2);
    for (const headers of upstream.seen) {
      assert.equal(headers['x-team'], 'blue');
      assert.equal(headers['x-proxy-secret'], undefined);
      assert.ok(!JSON.stringify(headers).includes(NEW), 'the secret is in no header');
    }
  });
});
