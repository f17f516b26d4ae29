/**
 * A replica started while the identity provider's JWKS endpoint hangs (issue 14, finding 7; the
 * fault suite's "JWKS hanging at start" case): /readyz is 503 "signing keys not loaded yet" and
 * GRPC health NOT_SERVING; a connect meanwhile answers 503 keys unavailable (temporary) within
 * the decision deadline, never 500; the one fetch in flight is not abandoned, so once the
 * endpoint answers the replica turns ready and connects are accepted, over HTTP and GRPC.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { grpcToJson, jsonToGrpcRequest, ROOT, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { startJwksServer } from '../helpers/more-tokens.js';
import { jwks, nowSeconds, rs256 } from '../helpers/tokens.js';

const SECRET = 'jwks-startup-caller-secret-0123456789';
const KEYS_UNAVAILABLE = '{"error":{"code":503,"message":"keys unavailable","temporary":true}}';
const DECISION_TIMEOUT_MS = 900;

/** A JWKS endpoint that holds every request until released, then answers them all. */
async function hangingJwks() {
  const held: ServerResponse[] = [];
  let hits = 0;
  let released = false;
  const body = JSON.stringify(jwks());
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const server = createServer((_req, res) => {
    hits++;
    if (released) answer(res);
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    hits: () => hits,
    release() {
      released = true;
      for (const res of held.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function healthStatus(port: number): Promise<string> {
  const definition = loadSync(`${ROOT}/node_modules/grpc-health-check/proto/health/v1/health.proto`, { keepCase: true, enums: String });
  const v1 = (((loadPackageDefinition(definition) as GrpcObject).grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
  const client = new (v1.Health as ServiceClientConstructor)(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
    Check: (r: unknown, cb: (e: Error | null, v: { status: string }) => void) => void;
    close: () => void;
  };
  return new Promise((resolve, reject) =>
    client.Check({ service: 'centrifugal.centrifugo.proxy.CentrifugoProxy' }, (err, value) => {
      client.close();
      if (err) reject(err);
      else resolve(value.status);
    }),
  );
}

async function readyz(h: Harness): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.httpUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Connect over both transports: the HTTP body, the GRPC answer in JSON form, the slower one's time. */
async function connectBoth(h: Harness, token: string): Promise<{ http: string; grpc: unknown; ms: number }> {
  const body = JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token } });
  const started = performance.now();
  const [http, grpc] = await Promise.all([
    h.http('/centrifugo/connect', body, { 'x-proxy-secret': SECRET }),
    h.call('Connect', jsonToGrpcRequest(body), { 'x-proxy-secret': SECRET }),
  ]);
  assert.equal(http.status, 200);
  return { http: http.body, grpc: grpcToJson(grpc), ms: performance.now() - started };
}

describe('JWKS endpoint hanging at start', () => {
  let idp: Awaited<ReturnType<typeof hangingJwks>>;
  let h: Harness;
  const exp = nowSeconds() + 3600;
  const token = rs256({ sub: '56', exp });

  before(async () => {
    idp = await hangingJwks();
    h = await startHarness(
      testConfigYaml(`caller_auth: { secret: ${SECRET} }\nserver: { decision_timeout: ${DECISION_TIMEOUT_MS}ms }\nauth:\n  jwt:\n    algorithms: [RS256]\n    jwks_url: ${idp.url}`),
    );
  });
  after(async () => {
    await h.stop();
    await idp.close();
  });

  it('starts listening without waiting for the keys, and is not ready: /readyz 503 with the reason, GRPC health NOT_SERVING', async () => {
    assert.deepEqual(await readyz(h), {
      status: 503,
      body: { status: 'not ready', reason: 'signing keys not loaded yet', policy_version: h.app.policy.current().version, signing_keys: 'unavailable' },
    });
    assert.equal(await healthStatus(h.grpcPort), 'NOT_SERVING');
  });

  it('a connect meanwhile answers 503 keys unavailable (temporary) within the decision deadline, over HTTP and GRPC', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await connectBoth(h, token);
      assert.equal(answer.http, KEYS_UNAVAILABLE);
      assert.deepEqual(answer.grpc, JSON.parse(KEYS_UNAVAILABLE));
      assert.ok(answer.ms < DECISION_TIMEOUT_MS, `answered after ${Math.round(answer.ms)} ms`);
    }
    assert.equal(idp.hits(), 1, 'connects wait on the one fetch in flight instead of starting their own');
  });

  it('once the endpoint answers, the fetch still in flight loads the keys: ready, SERVING, connects accepted', async () => {
    idp.release();
    for (let i = 0; i < 100 && (await readyz(h)).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await readyz(h), { status: 200, body: { status: 'ready', policy_version: h.app.policy.current().version } });
    assert.equal(await healthStatus(h.grpcPort), 'SERVING');
    const ok = `{"result":{"user":"56","expire_at":${exp}}}`;
    const answer = await connectBoth(h, token);
    assert.equal(answer.http, ok);
    assert.deepEqual(answer.grpc, JSON.parse(ok));
    assert.equal(idp.hits(), 1, 'the keys came from the fetch started at startup');
  });
});

describe('JWKS endpoint failing at start', () => {
  it('the first load is retried in the background: ready once the endpoint answers, with no connect asking', { timeout: 10_000 }, async () => {
    const idp = await startJwksServer(jwks());
    idp.mode = 'error';
    const h = await startHarness(testConfigYaml(`auth:\n  jwt:\n    algorithms: [RS256]\n    jwks_url: ${idp.url}`));
    try {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await readyz(h)).body.reason, 'signing keys not loaded yet');
      idp.mode = 'ok';
      // The first retry comes a second after the failed start.
      for (let i = 0; i < 150 && (await readyz(h)).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal((await readyz(h)).status, 200);
      assert.equal(idp.hits, 2, 'one failed fetch at start, one retry');
    } finally {
      await h.stop();
      await idp.close();
    }
  });
});
