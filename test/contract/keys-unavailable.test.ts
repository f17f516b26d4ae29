/**
 * The identity provider's key set cannot be fetched (jwks_url down) and the token's key is not
 * cached: connect answers error 503 `keys unavailable`, temporary (clients retry with backoff),
 * never the terminal 4501. An unknown kid in a key set that was fetched fine stays 4501.
 * Over HTTP and GRPC, against a real JWKS endpoint that the test takes down and brings back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { hs256, startJwksServer, type JwksServer } from '../helpers/more-tokens.js';
import { HMAC_SECRET, jwks, rs256 } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const SECRET = 'contract-caller-secret-0123456789';
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';
const KEYS_UNAVAILABLE = '{"error":{"code":503,"message":"keys unavailable","temporary":true}}';
const UNAUTHORIZED = '{"disconnect":{"code":4501,"reason":"unauthorized"}}';
const OK = `{"result":{"user":"56","expire_at":${NOW + 3600}}}`;

const claims = { sub: '56', exp: NOW + 3600 };
const withToken = (token: string) => JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', data: { token } });

async function connect(h: Harness, token: string, expect: string): Promise<void> {
  const body = withToken(token);
  const http = await h.http('/centrifugo/connect', body, { 'x-proxy-secret': SECRET });
  assert.equal(http.status, 200);
  assert.equal(http.body, expect, 'HTTP body');
  const grpc = await h.call('Connect', jsonToGrpcRequest(body), { 'x-proxy-secret': SECRET });
  assert.deepEqual(grpcToJson(grpc), JSON.parse(expect), 'GRPC answer');
}

async function counted(h: Harness): Promise<number> {
  return (await h.app.metrics.keysUnavailable.get()).values[0]?.value ?? 0;
}

async function readyz(h: Harness): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${h.httpUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('contract: identity provider down (connect over HTTP and GRPC)', () => {
  let idp: JwksServer;
  let h: Harness;
  const clock = { now: NOW_MS };

  before(async () => {
    idp = await startJwksServer(jwks());
    idp.mode = 'error';
    h = await startHarness(
      testConfigYaml(`caller_auth: { secret: ${SECRET} }\nauth:\n  jwt:\n    algorithms: [RS256, HS256]\n    jwks_url: ${idp.url}\n    hmac_secret: ${HMAC_SECRET}`),
      { now: () => clock.now },
    );
  });
  after(async () => {
    await h.stop();
    await idp.close();
  });

  it('down since start: a valid token gets 503 keys unavailable (temporary), counted; not ready until keys first load', async () => {
    await connect(h, rs256(claims), KEYS_UNAVAILABLE);
    assert.equal(await counted(h), 2, 'one per transport');
    const ready = await readyz(h);
    assert.equal(ready.status, 503, 'a replica that never had keys can verify nobody');
    assert.equal(ready.body.reason, 'signing keys not loaded yet');
    assert.equal(ready.body.signing_keys, 'unavailable');
  });

  it('down since start: a malformed token is still 4501; HS256 needs no JWKS and still connects', async () => {
    await connect(h, 'a.b.c', UNAUTHORIZED);
    await connect(h, hs256(claims), OK);
  });

  it('back up: the next connect after the retry second fetches and is accepted; /readyz no longer says unavailable', async () => {
    idp.mode = 'ok';
    clock.now += 1001;
    await connect(h, rs256(claims), OK);
    assert.deepEqual(await readyz(h), { status: 200, body: { status: 'ready', policy_version: h.app.policy.current().version } });
  });

  it('reachable: an unknown kid stays 4501', async () => {
    clock.now += 31_000;
    await connect(h, rs256(claims, 'rsa-unknown'), UNAUTHORIZED);
  });

  it('down again with keys cached: the cached kid works, an unknown kid is 503 while the fetch fails', async () => {
    idp.mode = 'error';
    clock.now += 31_000;
    const before = await counted(h);
    await connect(h, rs256(claims, 'rsa-rotated'), KEYS_UNAVAILABLE);
    await connect(h, rs256(claims), OK);
    assert.equal(await counted(h), before + 2);
    const ready = await readyz(h);
    assert.equal(ready.status, 200, 'an outage after keys loaded does not make the service unready (cached keys serve)');
    assert.equal(ready.body.signing_keys, 'unavailable');
  });
});
