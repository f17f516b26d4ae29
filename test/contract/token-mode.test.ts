/**
 * Token mode over HTTP against a running service: minting connection and subscription tokens
 * (allowed, denied, bad input, rate limit, CORS) and the guarded publish API (key rotation,
 * refusal, Centrifugo refusing, slow, down). Minted tokens are checked with node:crypto alone,
 * never with jose, which the service signs with. Centrifugo's server API is a fake here; the
 * real one is in test/e2e/token-mode.test.ts.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RevocationList } from '../../src/auth/revocations.js';
import { ROOT, startHarness, type Harness } from '../helpers/harness.js';
import { jwks, rs256 } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const ISS = 'https://issuer.test';
const AUD = 'api';
const CONNECTION_SECRET = 'centrifugo-connection-secret-0123456789abcdef';
const KEY_OLD = 'orders-key-old-0123456789abcdef';
const KEY_NEW = 'orders-key-new-0123456789abcdef';
const KEY_AUDIT = 'audit-key-0123456789abcdef01234';
const CENTRIFUGO_KEY = 'fake-centrifugo-api-key';

const userToken = (sub: string, roles: string[] = [], extra: Record<string, unknown> = {}) =>
  rs256({ sub, iss: ISS, aud: AUD, iat: NOW - 10, exp: NOW + 3600, ...(roles.length ? { roles } : {}), ...extra });

/** The claims of an HS256 JWT after checking its signature with node:crypto; throws when it does not verify. */
function verifyHs256(token: string, secret: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header = '', payload = '', signature] = token.split('.');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  assert.equal(signature, expected, 'HS256 signature verifies with the configured secret');
  return { header: JSON.parse(Buffer.from(header, 'base64url').toString()), claims: JSON.parse(Buffer.from(payload, 'base64url').toString()) };
}

/** Centrifugo's server API, faked: records calls; `mode` says how to answer the next ones. */
interface FakeCentrifugo {
  readonly url: string;
  readonly calls: Array<{ path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }>;
  mode: 'ok' | 'api_error' | 'status_401' | 'hang' | 'reset_once';
  close(): Promise<void>;
}

async function fakeCentrifugo(): Promise<FakeCentrifugo> {
  const fake = { calls: [], mode: 'ok' } as unknown as FakeCentrifugo & { resets: number };
  fake.resets = 0;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      fake.calls.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) });
      if (fake.mode === 'reset_once' && fake.resets === 0) {
        fake.resets += 1;
        req.socket.destroy();
        return;
      }
      if (fake.mode === 'hang') return;
      if (fake.mode === 'status_401') {
        res.writeHead(401).end('Unauthorized');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (fake.mode === 'api_error') res.end(JSON.stringify({ error: { code: 102, message: 'unknown channel' } }));
      else res.end(JSON.stringify({ result: req.url?.endsWith('broadcast') ? { responses: [{ result: {} }] } : { offset: 7, epoch: 'abc' } }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  });
}

function policyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-token-policy-'));
  cpSync(join(ROOT, 'policies'), dir, { recursive: true });
  appendFileSync(
    join(dir, 'policy.csv'),
    '\n# backends publishing through /api/publish\np, backend:orders, orders:*, publish, allow\np, backend:orders, orders:secret, publish, deny\n',
  );
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks()));
  return dir;
}

function configYaml(dir: string, centrifugoUrl: string, extra = ''): string {
  return `
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
auth:
  jwt: { algorithms: [RS256], issuer: ${ISS}, audience: ${AUD}, jwks_file: ${dir}/jwks.json }
  claims: { user: sub, roles: roles, info: [name] }
  channels: ["personal:{user}", "chat:lobby"]
policy: { model: ${dir}/model.conf, policy: ${dir}/policy.csv, tests: ${dir}/tests, watch: false }
log: { level: silent }
token_mode:
  enabled: true
  connection: { algorithm: HS256, hmac_secret: ${CONNECTION_SECRET}, lifetime: 10m, audience: centrifugo, issuer: policy-proxy }
  subscription: { lifetime: 5m }
  cors_origins: ["https://app.example"]
  rate_limit: { requests: 5, window: 1m }
  publish:
    api_keys:
      - { key: ${KEY_OLD}, subject: "backend:orders" }
      - { key: ${KEY_NEW}, subject: "backend:orders" }
      - { key: ${KEY_AUDIT}, subject: "backend:audit" }
    centrifugo_url: ${centrifugoUrl}
    centrifugo_api_key: ${CENTRIFUGO_KEY}
    timeout: 300ms
${extra}`;
}

describe('token mode over HTTP', () => {
  let h: Harness;
  let down: Harness;
  let centrifugo: FakeCentrifugo;
  const clock = { now: NOW_MS };
  const revoked = new Set<string>();
  const revocations: RevocationList = { isRevoked: async (user) => revoked.has(user) };

  const post = (harness: Harness, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${harness.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const answer = async (response: Response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> });

  before(async () => {
    const dir = policyDir();
    centrifugo = await fakeCentrifugo();
    h = await startHarness(configYaml(dir, centrifugo.url), { now: () => clock.now, revocations });
    // Nothing listens on port 9 of localhost (discard): connections are refused at once.
    down = await startHarness(configYaml(dir, 'http://127.0.0.1:9/api'), { now: () => clock.now, revocations });
  });
  after(async () => {
    await h?.stop();
    await down?.stop();
    await centrifugo?.close();
  });

  describe('POST /api/token', () => {
    it('a member gets a connection token: sub, iat, exp, aud, iss, info, meta roles and the server-side channels the policy allows', async () => {
      const { status, body } = await answer(await post(h, '/api/token', {}, { authorization: `Bearer ${userToken('56', ['role:member'], { name: 'Alice' })}` }));
      assert.equal(status, 200);
      const { header, claims } = verifyHs256(body.token as string, CONNECTION_SECRET);
      assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
      assert.deepEqual(claims, {
        sub: '56',
        iat: NOW,
        exp: NOW + 600,
        aud: 'centrifugo',
        iss: 'policy-proxy',
        info: { name: 'Alice' },
        meta: { roles: ['role:member'] },
        channels: ['personal:56', 'chat:lobby'],
      });
      assert.equal(body.expires_at, NOW + 600);
    });

    it('exp never outlives the user token; roles without a rule give no meta, guests get the lobby', async () => {
      const { status, body } = await answer(await post(h, '/api/token', {}, { authorization: `Bearer ${userToken('57', ['role:guest'], { exp: NOW + 90 })}` }));
      assert.equal(status, 200);
      const { claims } = verifyHs256(body.token as string, CONNECTION_SECRET);
      assert.equal(claims.exp, NOW + 90);
      assert.equal(body.expires_at, NOW + 90);
      assert.deepEqual(claims.channels, ['personal:57', 'chat:lobby']);
      assert.deepEqual(claims.meta, { roles: ['role:guest'] });
      assert.equal('channel' in claims, false, 'Centrifugo refuses connection tokens with a channel claim');
    });

    it('the token sources of connect: cookie and the JSON body field', async () => {
      const fromCookie = await answer(await post(h, '/api/token', '', { cookie: `theme=dark; access_token=${userToken('60')}` }));
      assert.equal(fromCookie.status, 200);
      const plain = verifyHs256(fromCookie.body.token as string, CONNECTION_SECRET).claims;
      assert.equal(plain.sub, '60');
      assert.deepEqual(plain.channels, ['personal:60'], 'no role: only the personal channel');
      assert.equal('meta' in plain, false, 'no roles: no meta, as connect answers');
      const fromBody = await answer(await post(h, '/api/token', { token: userToken('61') }));
      assert.equal(fromBody.status, 200);
      assert.equal(verifyHs256(fromBody.body.token as string, CONNECTION_SECRET).claims.sub, '61');
    });

    it('401 without a token, with a bad signature, with an expired one', async () => {
      assert.deepEqual(await answer(await post(h, '/api/token', {})), { status: 401, body: { error: 'missing token' } });
      const forged = userToken('56').replace(/\.[^.]+$/, '.AAAA');
      assert.deepEqual(await answer(await post(h, '/api/token', { token: forged })), { status: 401, body: { error: 'invalid token' } });
      const expired = userToken('56', [], { exp: NOW - 60 });
      assert.deepEqual(await answer(await post(h, '/api/token', { token: expired })), { status: 401, body: { error: 'token expired' } });
      // A Centrifugo connection token is not a user token: it never buys another one.
      const minted = (await answer(await post(h, '/api/token', { token: userToken('62') }))).body.token as string;
      assert.equal((await post(h, '/api/token', { token: minted })).status, 401);
    });

    it('403 when the policy denies connect (role:banned) or the user is revoked', async () => {
      assert.deepEqual(await answer(await post(h, '/api/token', { token: userToken('58', ['role:banned']) })), { status: 403, body: { error: 'permission denied' } });
      revoked.add('59');
      try {
        assert.equal((await post(h, '/api/token', { token: userToken('59') })).status, 403);
      } finally {
        revoked.delete('59');
      }
    });

    it('400 for malformed JSON; answers are never cached', async () => {
      const response = await post(h, '/api/token', '{"token":', { authorization: `Bearer ${userToken('56')}` });
      assert.deepEqual(await answer(response), { status: 400, body: { error: 'malformed JSON body' } });
      const ok = await post(h, '/api/token', {}, { authorization: `Bearer ${userToken('63')}` });
      assert.equal(ok.headers.get('cache-control'), 'no-store');
    });
  });

  describe('POST /api/subscription-token', () => {
    it('a member gets a subscription token for a chat room: sub, channel, iat, exp', async () => {
      const { status, body } = await answer(await post(h, '/api/subscription-token', { channel: 'chat:room-1', token: userToken('70', ['role:member']) }));
      assert.equal(status, 200);
      const { claims } = verifyHs256(body.token as string, CONNECTION_SECRET);
      assert.deepEqual(claims, { sub: '70', channel: 'chat:room-1', iat: NOW, exp: NOW + 300, aud: 'centrifugo', iss: 'policy-proxy' });
      assert.equal(body.expires_at, NOW + 300);
    });

    it('403 where the policy does not allow subscribe; 400 without a usable channel; 401 before 400', async () => {
      const guest = userToken('71', ['role:guest']);
      assert.equal((await post(h, '/api/subscription-token', { channel: 'chat:room-1', token: guest })).status, 403);
      assert.equal((await post(h, '/api/subscription-token', { channel: 'personal:99', token: guest })).status, 403, "another user's personal channel");
      assert.equal((await post(h, '/api/subscription-token', { channel: 'personal:71', token: guest })).status, 200);
      assert.deepEqual(await answer(await post(h, '/api/subscription-token', { token: guest })), { status: 400, body: { error: 'channel must be a non-empty string' } });
      assert.equal((await post(h, '/api/subscription-token', { channel: 'chat:a b', token: guest })).status, 400);
      assert.equal((await post(h, '/api/subscription-token', { channel: 42 })).status, 401);
    });
  });

  describe('rate limit and CORS', () => {
    it('per user: the sixth request in a window gets 429 with Retry-After; other users are unaffected; the next window is fresh', async () => {
      const token = userToken('80', ['role:member']);
      for (let i = 0; i < 5; i++) assert.equal((await post(h, i % 2 ? '/api/token' : '/api/subscription-token', { token, channel: 'chat:x' })).status, 200);
      const limited = await post(h, '/api/token', { token });
      assert.deepEqual(await answer(limited), { status: 429, body: { error: 'too many requests' } });
      assert.equal(limited.headers.get('retry-after'), '60');
      assert.equal((await post(h, '/api/token', { token: userToken('81') })).status, 200);
      clock.now += 61_000;
      try {
        assert.equal((await post(h, '/api/token', { token })).status, 200);
      } finally {
        clock.now = NOW_MS;
      }
    });

    it('a preflight from a listed origin is allowed with credentials; others get no CORS headers', async () => {
      const preflight = (origin: string) =>
        fetch(`${h.httpUrl}/api/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
      const allowed = await preflight('https://app.example');
      assert.equal(allowed.status, 204);
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(allowed.headers.get('access-control-allow-methods'), 'POST');
      assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/);
      assert.match(allowed.headers.get('vary') ?? '', /Origin/);
      const other = await preflight('https://evil.example');
      assert.equal(other.status, 204);
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const post1 = await post(h, '/api/token', { token: userToken('82') }, { origin: 'https://app.example' });
      assert.equal(post1.headers.get('access-control-allow-origin'), 'https://app.example');
      const post2 = await post(h, '/api/token', { token: userToken('82') }, { origin: 'https://evil.example' });
      assert.equal(post2.headers.get('access-control-allow-origin'), null);
    });
  });

  describe('POST /api/publish and /api/broadcast', () => {
    const publish = (key: string | undefined, body: unknown, path = '/api/publish', harness = h) =>
      post(harness, path, body, key === undefined ? {} : { 'x-api-key': key });

    it('both keys of a rotation publish as their subject; the body reaches Centrifugo with its API key and only publish fields', async () => {
      centrifugo.mode = 'ok';
      centrifugo.calls.length = 0;
      for (const key of [KEY_OLD, KEY_NEW]) {
        const result = await answer(await publish(key, { channel: 'orders:42', data: { status: 'paid' }, idempotency_key: 'k1', user: 'spoofed' }));
        assert.deepEqual(result, { status: 200, body: { result: { offset: 7, epoch: 'abc' } } });
      }
      assert.equal(centrifugo.calls.length, 2);
      assert.equal(centrifugo.calls[0]!.path, '/api/publish');
      assert.equal(centrifugo.calls[0]!.headers['x-api-key'], CENTRIFUGO_KEY);
      assert.deepEqual(centrifugo.calls[0]!.body, { channel: 'orders:42', data: { status: 'paid' }, idempotency_key: 'k1' });
      // Authorization: apikey KEY works as well.
      assert.equal((await post(h, '/api/publish', { channel: 'orders:1', data: 1 }, { authorization: `apikey ${KEY_NEW}` })).status, 200);
    });

    it('401 for a missing or unknown key (a retired key is unknown); 403 where the policy denies the subject', async () => {
      centrifugo.calls.length = 0;
      assert.deepEqual(await answer(await publish(undefined, { channel: 'orders:1', data: 1 })), { status: 401, body: { error: 'missing api key' } });
      assert.deepEqual(await answer(await publish('orders-key-retired-0123456789', { channel: 'orders:1', data: 1 })), { status: 401, body: { error: 'invalid api key' } });
      assert.deepEqual(await answer(await publish(KEY_OLD, { channel: 'orders:secret', data: 1 })), { status: 403, body: { error: 'permission denied', channels: ['orders:secret'] } });
      assert.equal((await publish(KEY_AUDIT, { channel: 'orders:1', data: 1 })).status, 403, 'another subject, no rule');
      assert.equal((await publish(KEY_OLD, { channel: 'chat:lobby', data: 1 })).status, 403);
      assert.equal(centrifugo.calls.length, 0, 'nothing refused reached Centrifugo');
    });

    it('400 for bad input', async () => {
      assert.deepEqual(await answer(await publish(KEY_OLD, { channel: 'orders:1' })), { status: 400, body: { error: 'one of "data" or "b64data" is required' } });
      assert.equal((await publish(KEY_OLD, { data: 1 })).status, 400);
      assert.equal((await publish(KEY_OLD, [1, 2])).status, 400);
      assert.equal((await publish(KEY_OLD, { channels: [], data: 1 }, '/api/broadcast')).status, 400);
      assert.equal((await publish(KEY_OLD, { channels: ['orders:1', ''], data: 1 }, '/api/broadcast')).status, 400);
    });

    it('broadcast: every channel must be allowed, else nothing is sent', async () => {
      centrifugo.mode = 'ok';
      centrifugo.calls.length = 0;
      const denied = await answer(await publish(KEY_OLD, { channels: ['orders:1', 'orders:secret', 'chat:x'], data: 1 }, '/api/broadcast'));
      assert.deepEqual(denied, { status: 403, body: { error: 'permission denied', channels: ['orders:secret', 'chat:x'] } });
      assert.equal(centrifugo.calls.length, 0);
      const sent = await answer(await publish(KEY_OLD, { channels: ['orders:1', 'orders:2', 'orders:1'], data: { n: 1 } }, '/api/broadcast'));
      assert.equal(sent.status, 200);
      assert.deepEqual(centrifugo.calls[0]!.body, { channels: ['orders:1', 'orders:2'], data: { n: 1 } });
      assert.equal(centrifugo.calls[0]!.path, '/api/broadcast');
    });

    it("Centrifugo refusing is a 502 with its error; a 401 from it is a 502 too; no answer in time is a 504", async () => {
      centrifugo.mode = 'api_error';
      assert.deepEqual(await answer(await publish(KEY_OLD, { channel: 'orders:1', data: 1 })), {
        status: 502,
        body: { error: 'centrifugo error 102: unknown channel', centrifugo_error: { code: 102, message: 'unknown channel' } },
      });
      centrifugo.mode = 'status_401';
      assert.deepEqual(await answer(await publish(KEY_OLD, { channel: 'orders:1', data: 1 })), { status: 502, body: { error: 'centrifugo answered 401: Unauthorized' } });
      centrifugo.mode = 'hang';
      const started = performance.now();
      assert.deepEqual(await answer(await publish(KEY_OLD, { channel: 'orders:1', data: 1 })), { status: 504, body: { error: 'centrifugo did not answer in time' } });
      assert.ok(performance.now() - started < 2000, 'bounded by token_mode.publish.timeout');
      centrifugo.mode = 'ok';
    });

    it('a connection lost mid-request is retried only with an idempotency_key', async () => {
      const fake = centrifugo as FakeCentrifugo & { resets: number };
      centrifugo.mode = 'reset_once';
      fake.resets = 0;
      centrifugo.calls.length = 0;
      assert.equal((await publish(KEY_OLD, { channel: 'orders:1', data: 1 })).status, 503, 'not idempotent: not repeated');
      assert.equal(centrifugo.calls.length, 1);
      fake.resets = 0;
      centrifugo.calls.length = 0;
      assert.equal((await publish(KEY_OLD, { channel: 'orders:1', data: 1, idempotency_key: 'order-1-paid' })).status, 200);
      assert.equal(centrifugo.calls.length, 2, 'repeated once; Centrifugo drops the duplicate by its idempotency_key');
      centrifugo.mode = 'ok';
    });

    it('Centrifugo down: 503 at once', async () => {
      const started = performance.now();
      const response = await publish(KEY_OLD, { channel: 'orders:1', data: 1 }, '/api/publish', down);
      const { status, body } = await answer(response);
      assert.equal(status, 503);
      assert.match(body.error as string, /^centrifugo unreachable \(ECONNREFUSED\)$/);
      assert.equal(response.headers.get('retry-after'), '1');
      assert.ok(performance.now() - started < 1000);
    });

    it('metrics count each endpoint by outcome', async () => {
      const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
      for (const line of [
        'cpp_token_api_requests_total{endpoint="token",outcome="ok"}',
        'cpp_token_api_requests_total{endpoint="token",outcome="unauthorized"}',
        'cpp_token_api_requests_total{endpoint="token",outcome="forbidden"}',
        'cpp_token_api_requests_total{endpoint="token",outcome="rate_limited"}',
        'cpp_token_api_requests_total{endpoint="subscription_token",outcome="bad_request"}',
        'cpp_token_api_requests_total{endpoint="publish",outcome="refused"}',
        'cpp_token_api_requests_total{endpoint="publish",outcome="timeout"}',
        'cpp_token_api_requests_total{endpoint="broadcast",outcome="forbidden"}',
      ]) {
        assert.ok(text.includes(line), `${line} in /metrics`);
      }
      assert.match(text, /cpp_centrifugo_api_duration_seconds_count\{method="publish",status="200"\} \d+/);
    });
  });

  it('off by default: the endpoints are 404', async () => {
    const off = await startHarness(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: ${ROOT}/policies/tests, watch: false }
log: { level: silent }
`);
    try {
      for (const path of ['/api/token', '/api/subscription-token', '/api/publish', '/api/broadcast']) {
        assert.equal((await post(off, path, {})).status, 404, path);
      }
    } finally {
      await off.stop();
    }
  });
});
