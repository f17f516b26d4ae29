/**
 * The connect authentication contract: every case runs over HTTP and GRPC against a running
 * service and must give the exact bytes Centrifugo reads (HTTP) and the same answer (GRPC).
 * Tokens are signed with node:crypto (test/helpers), never with jose, which the service uses.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { JwtAuthenticator } from '../../src/auth/jwt-authenticator.js';
import { configSchema } from '../../src/config/schema.js';
import type { ConnectRequest } from '../../src/core/messages.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';
import { connectWithToken, eddsa, es256, hs256, jwkOf, rs256With, rsaPublicPem, startJwksServer, withPayload, type JwksServer } from '../helpers/more-tokens.js';
import { HMAC_SECRET, jwks, rs256, rsa, rsaOther, signJwt } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1); // 1893456000
const NOW = NOW_MS / 1000;
const SECRET = 'contract-caller-secret-0123456789';
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';
const ISS = 'https://issuer.test';
const AUD = 'centrifugo';
const EXP = NOW + 3600;

const UNAUTHORIZED = '{"disconnect":{"code":4501,"reason":"unauthorized"}}';
const EXPIRED = '{"disconnect":{"code":4001,"reason":"token expired"}}';
const ok = (user: string, expireAt: number | null = EXP, rest = '') =>
  `{"result":{"user":${JSON.stringify(user)}${expireAt === null ? '' : `,"expire_at":${expireAt}`}${rest}}}`;

/** Claims every configured harness accepts, with `extra` on top (undefined removes a claim). */
const claims = (extra: Record<string, unknown> = {}) => ({ sub: '56', iss: ISS, aud: AUD, iat: NOW - 10, exp: EXP, ...extra });
const rsToken = (extra: Record<string, unknown> = {}) => rs256(claims(extra));

const connectBody = (data?: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', data, ...extra });
const withToken = (token: string) => connectBody({ token });
const binaryBody = (b64data: string) => JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'protobuf', encoding: 'binary', b64data });

/** RS256 tokens with a `pad` claim: the largest at most `max` bytes and the smallest above it. */
function aroundSize(max: number): { fits: string; over: string } {
  const padded = (n: number) => rsToken({ pad: 'x'.repeat(n) });
  let n = Math.floor(((max - padded(0).length) * 3) / 4) - 8;
  let fits = padded(n);
  while (padded(n + 1).length <= max) fits = padded(++n);
  return { fits, over: padded(n + 1) };
}
const sized = aroundSize(8192);

type HarnessName = 'main' | 'rs256only' | 'pem' | 'anonymous' | 'info' | 'noexp';

interface Case {
  readonly note: string;
  readonly harness?: HarnessName;
  readonly body: string;
  readonly headers?: Record<string, string>;
  /** The exact HTTP response body. */
  readonly expect: string;
}

const confusion = (secret: string) => signJwt({ alg: 'HS256', typ: 'JWT' }, claims(), { alg: 'HS256', secret });
const algNone = signJwt({ alg: 'none', typ: 'JWT' }, claims(), { alg: 'none' });

const cases: Case[] = [
  // --- Accepted, each algorithm.
  { note: 'RS256 from the JWKS file', body: withToken(rsToken()), expect: ok('56') },
  { note: 'ES256 from the JWKS file', body: withToken(es256(claims({ sub: 'ec-user' }))), expect: ok('ec-user') },
  { note: 'EdDSA from the JWKS file', body: withToken(eddsa(claims({ sub: 'ed-user' }))), expect: ok('ed-user') },
  { note: 'HS256 with the hmac_secret', body: withToken(hs256(claims({ sub: 'hs-user' }))), expect: ok('hs-user') },
  { note: 'HS256 in the Authorization header', body: connectBody(), headers: { authorization: `Bearer ${hs256(claims())}` }, expect: ok('56') },
  { note: 'EdDSA in the access_token cookie', body: connectBody(), headers: { cookie: `a=b; access_token=${eddsa(claims())}` }, expect: ok('56') },
  { note: 'RS256 inside binary b64data', body: binaryBody(Buffer.from(JSON.stringify({ token: rsToken() })).toString('base64')), expect: ok('56') },
  { note: 'roles claim becomes meta.roles', body: withToken(rsToken({ roles: ['role:member', 'role:guest'] })), expect: ok('56', EXP, ',"meta":{"roles":["role:member","role:guest"]}') },
  { note: 'roles as a space/comma separated string', body: withToken(es256(claims({ roles: 'role:member, role:admin' }))), expect: ok('56', EXP, ',"meta":{"roles":["role:member","role:admin"]}') },
  { note: 'a token without exp is refused (auth.jwt.require_exp defaults to true)', body: withToken(rsToken({ exp: undefined })), expect: UNAUTHORIZED },
  { note: 'an HS256 token without exp is refused', body: withToken(hs256(claims({ exp: undefined }))), expect: UNAUTHORIZED },

  // --- require_exp: false, max_lifetime: 10m
  { note: 'require_exp off: a token without exp connects for max_lifetime', harness: 'noexp', body: withToken(rsToken({ exp: undefined })), expect: ok('56', NOW + 600) },
  { note: 'require_exp off: the same token again (cached) still gets max_lifetime', harness: 'noexp', body: withToken(rsToken({ exp: undefined })), expect: ok('56', NOW + 600) },
  { note: 'require_exp off: a token with exp keeps its exp', harness: 'noexp', body: withToken(rsToken()), expect: ok('56') },
  { note: 'require_exp off: an expired token is still expired', harness: 'noexp', body: withToken(rsToken({ exp: NOW - 60 })), expect: EXPIRED },
  { note: 'exp 3 s ago is within the 5 s clock tolerance', body: withToken(rsToken({ exp: NOW - 3 })), expect: ok('56', NOW - 3) },
  { note: 'nbf 3 s ahead is within the 5 s clock tolerance', body: withToken(rsToken({ nbf: NOW + 3 })), expect: ok('56') },
  { note: 'a token of exactly max_token_bytes or just below', body: withToken(sized.fits), expect: ok('56') },
  { note: 'a role that policy bans is forbidden, not unauthorized', body: withToken(rsToken({ roles: ['role:banned'] })), expect: '{"disconnect":{"code":4503,"reason":"forbidden"}}' },

  // --- claims.info: [name]
  { note: 'claims.info maps name into info', harness: 'info', body: withToken(rsToken({ name: 'Ann', email: 'ann@x.test', roles: ['role:member'] })), expect: ok('56', EXP, ',"info":{"name":"Ann"},"meta":{"roles":["role:member"]}') },
  { note: 'claims.info with the claim absent gives an empty info object', harness: 'info', body: withToken(hs256(claims())), expect: ok('56', EXP, ',"info":{}') },
  {
    note: 'claims.info in binary mode travels as b64info',
    harness: 'info',
    body: binaryBody(Buffer.from(JSON.stringify({ token: rsToken({ name: 'Ann' }) })).toString('base64')),
    expect: ok('56', EXP, `,"b64info":"${Buffer.from('{"name":"Ann"}').toString('base64')}"`),
  },

  // --- Expired: 4001, and only for tokens whose signature verifies.
  { note: 'expired an hour ago', body: withToken(rsToken({ exp: NOW - 3600 })), expect: EXPIRED },
  { note: 'expired 6 s ago, beyond the 5 s tolerance', body: withToken(es256(claims({ exp: NOW - 6 }))), expect: EXPIRED },
  { note: 'expired HS256', body: connectBody(), headers: { authorization: `Bearer ${hs256(claims({ exp: NOW - 60 }))}` }, expect: EXPIRED },
  { note: 'expired but signed by another key is unauthorized, not expired', body: withToken(rs256With(rsaOther.privateKey, 'rsa-1', claims({ exp: NOW - 60 }))), expect: UNAUTHORIZED },

  // --- Refused: 4501.
  ...(
    [
      ['alg none', algNone],
      ['alg none with an empty signature part and a kid', signJwt({ alg: 'none', kid: 'rsa-1' }, claims(), { alg: 'none' })],
      ['HS256 signed with the RSA public key PEM (algorithm confusion)', confusion(rsaPublicPem)],
      ['HS256 signed with the RSA public key PEM without its final newline', confusion(rsaPublicPem.trim())],
      ['HS256 signed with the RSA public JWK as secret', confusion(JSON.stringify(jwkOf(rsa.publicKey, 'rsa-1', 'RS256')))],
      ['HS256 with kid rsa-1 signed with the PEM', signJwt({ alg: 'HS256', kid: 'rsa-1' }, claims(), { alg: 'HS256', secret: rsaPublicPem })],
      ['HS256 signed with another secret', hs256(claims(), 'another-hmac-secret-with-32-bytes-or-more')],
      ['a wrong issuer', rsToken({ iss: 'https://evil.test' })],
      ['no issuer', rsToken({ iss: undefined })],
      ['a wrong audience', rsToken({ aud: 'other' })],
      ['no audience', rsToken({ aud: undefined })],
      ['an unknown kid', rs256(claims(), 'rsa-unknown')],
      ['RS256 naming the EC key', rs256(claims(), 'ec-1')],
      ['a tampered payload (other sub)', withPayload(rsToken(), claims({ sub: '1' }))],
      ['a tampered payload (added admin role)', withPayload(es256(claims()), claims({ roles: ['role:admin'] }))],
      ['a tampered HS256 payload', withPayload(hs256(claims()), claims({ exp: NOW + 999_999 }))],
      ["another RSA key's signature under kid rsa-1", rs256With(rsaOther.privateKey, 'rsa-1', claims())],
      ['a stripped signature', `${rsToken().split('.').slice(0, 2).join('.')}.`],
      ['nbf 10 minutes ahead', rsToken({ nbf: NOW + 600 })],
      ['nbf 6 s ahead, beyond the 5 s tolerance', rsToken({ nbf: NOW + 6 })],
      ['malformed "abc"', 'abc'],
      ['malformed "a.b.c"', 'a.b.c'],
      ['a JWE-shaped five-part token', 'a.b.c.d.e'],
      ['a token just over max_token_bytes', sized.over],
      ['a very large token', rsToken({ pad: 'x'.repeat(20_000) })],
      ['no sub claim', rsToken({ sub: undefined })],
      ['an empty sub', rsToken({ sub: '' })],
      ['a numeric sub', rsToken({ sub: 56 })],
    ] as const
  ).map(([what, jwt]): Case => ({ note: `refuses ${what}`, body: withToken(jwt), expect: UNAUTHORIZED })),
  { note: 'no connect data at all', body: connectBody(), expect: UNAUTHORIZED },
  { note: 'empty connect data object', body: connectBody({}), expect: UNAUTHORIZED },
  { note: 'an empty token string', body: withToken(''), expect: UNAUTHORIZED },
  { note: 'a non-string token', body: connectBody({ token: 42 }), expect: UNAUTHORIZED },
  { note: 'non-JSON binary data and no token elsewhere', body: binaryBody(Buffer.from([0x01, 0x02, 0xff, 0x7b]).toString('base64')), expect: UNAUTHORIZED },
  { note: 'a Basic Authorization header', body: connectBody(), headers: { authorization: 'Basic dXNlcjpwYXNz' }, expect: UNAUTHORIZED },
  { note: 'an alg none token in the Authorization header', body: connectBody({}), headers: { authorization: `Bearer ${algNone}` }, expect: UNAUTHORIZED },

  // --- Algorithm allow-list: RS256 only (no hmac_secret at all).
  { note: 'RS256-only still accepts RS256', harness: 'rs256only', body: withToken(rsToken()), expect: ok('56') },
  { note: 'RS256-only refuses a valid ES256 token', harness: 'rs256only', body: withToken(es256(claims())), expect: UNAUTHORIZED },
  { note: 'RS256-only refuses HS256 signed with the RSA PEM', harness: 'rs256only', body: withToken(confusion(rsaPublicPem)), expect: UNAUTHORIZED },
  { note: 'RS256-only refuses alg none', harness: 'rs256only', body: withToken(algNone), expect: UNAUTHORIZED },

  // --- public_key_file (PEM) with HS256 allowed under a different hmac_secret: the classic confusion set-up.
  { note: 'PEM config accepts RS256', harness: 'pem', body: withToken(rsToken()), expect: ok('56') },
  { note: 'PEM config accepts HS256 with its own secret', harness: 'pem', body: withToken(hs256(claims())), expect: ok('56') },
  { note: 'PEM config refuses HS256 signed with the PEM', harness: 'pem', body: withToken(confusion(rsaPublicPem)), expect: UNAUTHORIZED },
  { note: 'PEM config refuses HS256 signed with the trimmed PEM', harness: 'pem', body: withToken(confusion(rsaPublicPem.trim())), expect: UNAUTHORIZED },
  { note: 'PEM config refuses alg none', harness: 'pem', body: withToken(algNone), expect: UNAUTHORIZED },
  { note: 'PEM config refuses another RSA key', harness: 'pem', body: withToken(rs256With(rsaOther.privateKey, 'x', claims())), expect: UNAUTHORIZED },

  // --- anonymous: true. The empty user is omitted like every empty value (Go's omitempty);
  // Centrifugo takes any non-null result, {"result":{}} included, as an anonymous connection.
  { note: 'anonymous: no token connects with an empty user', harness: 'anonymous', body: connectBody(), expect: '{"result":{}}' },
  { note: 'anonymous: empty data connects with an empty user', harness: 'anonymous', body: connectBody({}), expect: '{"result":{}}' },
  { note: 'anonymous: non-JSON binary data connects with an empty user', harness: 'anonymous', body: binaryBody('AQL/'), expect: '{"result":{}}' },
  { note: 'anonymous: a valid token still identifies the user', harness: 'anonymous', body: withToken(rsToken({ roles: ['role:member'] })), expect: ok('56', EXP, ',"meta":{"roles":["role:member"]}') },
  { note: 'anonymous: a bad token is refused, not downgraded', harness: 'anonymous', body: withToken(algNone), expect: UNAUTHORIZED },
  { note: 'anonymous: a forged token is refused, not downgraded', harness: 'anonymous', body: withToken(withPayload(rsToken(), claims({ sub: '1' }))), expect: UNAUTHORIZED },
  { note: 'anonymous: an expired token is expired, not downgraded', harness: 'anonymous', body: withToken(rsToken({ exp: NOW - 60 })), expect: EXPIRED },
  { note: 'anonymous: an oversized token is refused', harness: 'anonymous', body: withToken(sized.over), expect: UNAUTHORIZED },
];

describe('contract: connect authentication over HTTP and GRPC', () => {
  const harnesses = new Map<HarnessName, Harness>();

  before(async () => {
    const jwksFile = writeConfig('');
    writeFileSync(jwksFile, JSON.stringify(jwks()));
    const pemFile = writeConfig(rsaPublicPem);
    const jwt = (lines: string) => `
caller_auth: { secret: ${SECRET} }
auth:
  jwt:
    issuer: ${ISS}
    audience: ${AUD}
${lines
  .trim()
  .split('\n')
  .map((l) => `    ${l.trim()}`)
  .join('\n')}`;
    const full = `
algorithms: [RS256, ES256, EdDSA, HS256]
jwks_file: ${jwksFile}
hmac_secret: ${HMAC_SECRET}`;
    const configs: Record<HarnessName, string> = {
      main: jwt(full),
      rs256only: jwt(`algorithms: [RS256]\njwks_file: ${jwksFile}`),
      pem: jwt(`algorithms: [RS256, HS256]\npublic_key_file: ${pemFile}\nhmac_secret: ${HMAC_SECRET}`),
      anonymous: `${jwt(full)}\n  anonymous: true`,
      info: `${jwt(full)}\n  claims: { info: [name] }`,
      noexp: jwt(`${full}\nrequire_exp: false\nmax_lifetime: 10m`),
    };
    for (const [name, yaml] of Object.entries(configs) as [HarnessName, string][]) {
      harnesses.set(name, await startHarness(testConfigYaml(yaml), { now: () => NOW_MS }));
    }
  });

  after(async () => {
    for (const h of harnesses.values()) await h.stop();
  });

  it('the size cases sit on both sides of max_token_bytes', () => {
    assert.ok(Buffer.byteLength(sized.fits) <= 8192 && Buffer.byteLength(sized.fits) > 8180, `fits: ${sized.fits.length}`);
    assert.ok(Buffer.byteLength(sized.over) > 8192, `over: ${sized.over.length}`);
  });

  for (const c of cases) {
    it(`${c.harness ?? 'main'}: ${c.note}`, async () => {
      const h = harnesses.get(c.harness ?? 'main') as Harness;
      const http = await h.http('/centrifugo/connect', c.body, { 'x-proxy-secret': SECRET, ...c.headers });
      assert.equal(http.status, 200);
      assert.equal(http.body, c.expect, 'HTTP body');
      const grpc = await h.call('Connect', jsonToGrpcRequest(c.body), { 'x-proxy-secret': SECRET, ...c.headers });
      assert.deepEqual(grpcToJson(grpc), JSON.parse(c.expect), 'GRPC answer');
    });
  }
});

describe('verified-token cache (JwtAuthenticator with a remote JWKS)', () => {
  let idp: JwksServer;

  before(async () => {
    idp = await startJwksServer(jwks());
  });
  after(() => idp.close());

  const authConfig = () => configSchema.parse({ auth: { jwt: { jwks_url: idp.url, issuer: ISS, audience: AUD } } }).auth;
  const request = (token: string): ConnectRequest => connectWithToken(token, CLIENT);

  it('a repeated token is verified once: one JWKS fetch, one signature check for 100 connects', async (t) => {
    idp.hits = 0;
    const auth = new JwtAuthenticator(authConfig(), () => NOW_MS);
    const verify = t.mock.method(crypto.subtle, 'verify');
    const token = rsToken({ roles: ['role:member'] });
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(await auth.authenticate(request(token)), {
        kind: 'authenticated',
        identity: { user: '56', roles: ['role:member'], expireAt: EXP },
      });
    }
    assert.equal(idp.hits, 1, 'JWKS fetches');
    assert.equal(verify.mock.callCount(), 1, 'signature verifications');
    // A different token is not a cache hit.
    assert.equal((await auth.authenticate(request(rsToken({ sub: '57' })))).kind, 'authenticated');
    assert.equal(verify.mock.callCount(), 2, 'signature verifications');
    assert.equal(idp.hits, 1, 'JWKS fetches');
  });

  it('a cached token stops being accepted once its exp passes on the injected clock', async () => {
    let clock = NOW_MS;
    const auth = new JwtAuthenticator(authConfig(), () => clock);
    const token = rsToken({ exp: NOW + 60 });
    assert.equal((await auth.authenticate(request(token))).kind, 'authenticated');
    clock = NOW_MS + 30_000;
    assert.equal((await auth.authenticate(request(token))).kind, 'authenticated');
    // Past exp but within the 5 s tolerance: still accepted (re-verified).
    clock = (NOW + 63) * 1000;
    assert.equal((await auth.authenticate(request(token))).kind, 'authenticated');
    // Beyond the tolerance: expired, whatever the cache holds.
    clock = (NOW + 66) * 1000;
    assert.deepEqual(await auth.authenticate(request(token)), { kind: 'expired' });
    clock = (NOW + 3600) * 1000;
    assert.deepEqual(await auth.authenticate(request(token)), { kind: 'expired' });
  });

  it('a token without exp is refused every time (never cached as accepted)', async () => {
    const auth = new JwtAuthenticator(authConfig(), () => NOW_MS);
    const token = rsToken({ exp: undefined });
    for (let i = 0; i < 3; i++) assert.deepEqual(await auth.authenticate(request(token)), { kind: 'invalid', reason: 'token without exp (auth.jwt.require_exp)' });
  });

  it('require_exp off: each connect of a token without exp lives max_lifetime from that connect, cached or not', async (t) => {
    let clock = NOW_MS;
    const config = configSchema.parse({ auth: { jwt: { jwks_url: idp.url, issuer: ISS, audience: AUD, require_exp: false, max_lifetime: '10m' } } }).auth;
    const auth = new JwtAuthenticator(config, () => clock);
    const verify = t.mock.method(crypto.subtle, 'verify');
    const token = rsToken({ exp: undefined });
    assert.deepEqual(await auth.authenticate(request(token)), { kind: 'authenticated', identity: { user: '56', roles: [], expireAt: NOW + 600 } });
    clock += 120_000;
    assert.deepEqual(await auth.authenticate(request(token)), { kind: 'authenticated', identity: { user: '56', roles: [], expireAt: NOW + 720 } });
    assert.equal(verify.mock.callCount(), 1, 'the second connect came from the cache');
  });

  it('an expired token is never cached: it stays expired', async () => {
    const auth = new JwtAuthenticator(authConfig(), () => NOW_MS);
    const token = rsToken({ exp: NOW - 60 });
    for (let i = 0; i < 3; i++) assert.deepEqual(await auth.authenticate(request(token)), { kind: 'expired' });
  });

  it('a refused token is not cached as accepted, and a forged copy of a cached token is refused', async () => {
    const auth = new JwtAuthenticator(authConfig(), () => NOW_MS);
    const good = rsToken();
    assert.equal((await auth.authenticate(request(good))).kind, 'authenticated');
    const forged = withPayload(good, claims({ sub: '1' }));
    for (let i = 0; i < 3; i++) assert.equal((await auth.authenticate(request(forged))).kind, 'invalid');
  });
});
