/**
 * JwtAuthenticator's checks at their exact boundaries, on a fake clock: the algorithm allow-list
 * and HMAC/public-key separation, exp with clock tolerance, the token size bound, require_exp
 * and max_lifetime, the verified-token cache (never past exp), and the claim mapping. Written
 * for mutation testing (TESTING.md, "Score: src/auth ... (mut3)"): each case pins one check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JwtAuthenticator, mapClaims } from '../../src/auth/jwt-authenticator.js';
import { configSchema } from '../../src/config/schema.js';
import type { ConnectRequest } from '../../src/core/messages.js';
import type { RedisStore } from '../../src/cache/redis-store.js';
import { connectWithToken, hs256, jwkOf, rsaPublicPem } from '../helpers/more-tokens.js';
import { HMAC_SECRET, rsa, signJwt } from '../helpers/tokens.js';

const T0 = 1_800_000_000_000;
const S0 = T0 / 1000;

function authOf(jwt: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return configSchema.parse({ auth: { jwt: { hmac_secret: HMAC_SECRET, algorithms: ['HS256'], ...jwt }, ...extra } }).auth;
}

function clocked(jwt: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const clock = { now: T0 };
  const authenticator = new JwtAuthenticator(authOf(jwt, extra), () => clock.now);
  return { clock, authenticator };
}

const rs256 = (payload: Record<string, unknown>) => signJwt({ alg: 'RS256', typ: 'JWT' }, payload, { alg: 'RS256', privateKey: rsa.privateKey });

describe('jwt-authenticator: algorithms and keys', () => {
  it('refuses an HS256 token when only RS256 is allowed, even with the right secret', async () => {
    const { authenticator } = clocked({ algorithms: ['RS256'] });
    const outcome = await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60 })));
    assert.equal(outcome.kind, 'invalid');
  });

  it('refuses alg "none"', async () => {
    const { authenticator } = clocked();
    const token = signJwt({ alg: 'none', typ: 'JWT' }, { sub: 'u', exp: S0 + 60 }, { alg: 'none' });
    assert.equal((await authenticator.authenticate(connectWithToken(token))).kind, 'invalid');
  });

  it('refuses an HS256 token without an hmac_secret, and one signed with the public key as the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-jwt-'));
    try {
      const pem = join(dir, 'pub.pem');
      writeFileSync(pem, rsaPublicPem);
      const { authenticator } = clocked({ hmac_secret: '', public_key_file: pem, algorithms: ['HS256', 'RS256'] });
      const confused = hs256({ sub: 'u', exp: S0 + 60 }, rsaPublicPem);
      assert.deepEqual(await authenticator.authenticate(connectWithToken(confused)), {
        kind: 'invalid',
        reason: 'HMAC algorithms need auth.jwt.hmac_secret (ERR_JOSE_ALG_NOT_ALLOWED)',
      });
      const good = await authenticator.authenticate(connectWithToken(rs256({ sub: 'u', exp: S0 + 60 })));
      assert.deepEqual(good, { kind: 'authenticated', identity: { user: 'u', roles: [], expireAt: S0 + 60 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an RS256 token when no public key is configured', async () => {
    const { authenticator } = clocked({ algorithms: ['HS256', 'RS256'] });
    assert.deepEqual(await authenticator.authenticate(connectWithToken(rs256({ sub: 'u', exp: S0 + 60 }))), {
      kind: 'invalid',
      reason: 'no public key configured (ERR_JWKS_NO_MATCHING_KEY)',
    });
  });

  it('checks issuer and audience only when configured, exactly', async () => {
    const { authenticator } = clocked({ issuer: 'https://idp', audience: 'chat' });
    const ok = await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60, iss: 'https://idp', aud: 'chat' })));
    assert.equal(ok.kind, 'authenticated');
    assert.equal((await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60, iss: 'https://other', aud: 'chat' })))).kind, 'invalid');
    assert.equal((await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60, iss: 'https://idp', aud: 'other' })))).kind, 'invalid');
    const open = clocked().authenticator;
    assert.equal((await open.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60, iss: 'x', aud: 'y' })))).kind, 'authenticated');
  });
});

describe('jwt-authenticator: exp, clock tolerance, nbf', () => {
  it('accepts a token expired by less than clock_tolerance and refuses one beyond it', async () => {
    const { authenticator } = clocked({ clock_tolerance: '5s' });
    const within = await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 - 4 })));
    assert.deepEqual(within, { kind: 'authenticated', identity: { user: 'u', roles: [], expireAt: S0 - 4 } });
    assert.deepEqual(await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 - 6 }))), { kind: 'expired' });
  });

  it('with no tolerance, a token whose exp is now is expired', async () => {
    const { authenticator } = clocked({ clock_tolerance: '0s' });
    assert.deepEqual(await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 }))), { kind: 'expired' });
    assert.equal((await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 1 })))).kind, 'authenticated');
  });

  it('judges nbf on the authenticator clock', async () => {
    const { authenticator } = clocked({ clock_tolerance: '0s' });
    assert.equal((await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60, nbf: S0 + 10 })))).kind, 'invalid');
    assert.equal((await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60, nbf: S0 - 10 })))).kind, 'authenticated');
  });

  it('never serves a cached identity once exp has passed (memory tier and synchronous path)', async () => {
    const { clock, authenticator } = clocked({ clock_tolerance: '0s' });
    const request = connectWithToken(hs256({ sub: 'u', exp: S0 + 10 }));
    assert.equal((await authenticator.authenticate(request)).kind, 'authenticated');
    assert.deepEqual(authenticator.authenticateNow(request), { user: 'u', roles: [], expireAt: S0 + 10 });
    clock.now = T0 + 9_999;
    assert.deepEqual(authenticator.authenticateNow(request), { user: 'u', roles: [], expireAt: S0 + 10 });
    clock.now = T0 + 10_000;
    assert.equal(authenticator.authenticateNow(request), undefined);
    assert.deepEqual(await authenticator.authenticate(request), { kind: 'expired' });
  });

  it('does not cache a token accepted only through the tolerance', async () => {
    const { authenticator } = clocked({ clock_tolerance: '5s' });
    const request = connectWithToken(hs256({ sub: 'u', exp: S0 - 2 }));
    assert.equal((await authenticator.authenticate(request)).kind, 'authenticated');
    assert.equal(authenticator.authenticateNow(request), undefined);
  });
});

describe('jwt-authenticator: require_exp and max_lifetime', () => {
  it('refuses a token without exp by default, with its reason', async () => {
    const { authenticator } = clocked();
    assert.deepEqual(await authenticator.authenticate(connectWithToken(hs256({ sub: 'u' }))), {
      kind: 'invalid',
      reason: 'token without exp (auth.jwt.require_exp)',
    });
  });

  it('with require_exp off, bounds the connection by max_lifetime and caches it for at most 5 minutes', async () => {
    const { clock, authenticator } = clocked({ require_exp: false, max_lifetime: '1h' });
    const request = connectWithToken(hs256({ sub: 'u' }));
    assert.deepEqual(await authenticator.authenticate(request), { kind: 'authenticated', identity: { user: 'u', roles: [], expireAt: S0 + 3600 } });
    clock.now = T0 + 1500;
    assert.deepEqual(authenticator.authenticateNow(request), { user: 'u', roles: [], expireAt: S0 + 3601 });
  });

  it('with require_exp off and max_lifetime under 5 minutes, the cache holds it for max_lifetime', async () => {
    const { authenticator } = clocked({ require_exp: false, max_lifetime: '1s' });
    const request = connectWithToken(hs256({ sub: 'u' }));
    assert.deepEqual(await authenticator.authenticate(request), { kind: 'authenticated', identity: { user: 'u', roles: [], expireAt: S0 + 1 } });
    assert.ok(authenticator.authenticateNow(request));
    await new Promise((resolve) => setTimeout(resolve, 1050));
    assert.equal(authenticator.authenticateNow(request), undefined);
  });
});

describe('jwt-authenticator: token size bound', () => {
  const sized = (bytes: number): ConnectRequest => {
    const base = hs256({ sub: 'u', exp: S0 + 60, pad: '' });
    const padded = hs256({ sub: 'u', exp: S0 + 60, pad: 'x'.repeat(Math.max(0, bytes - base.length) * 0.75) });
    return connectWithToken(padded);
  };

  it('accepts a token of exactly max_token_bytes and refuses one byte more, before verifying', async () => {
    const request = sized(400);
    const token = JSON.parse((request.data?.bytes as Buffer).toString()).token as string;
    const exact = clocked({ max_token_bytes: token.length }).authenticator;
    assert.equal((await exact.authenticate(request)).kind, 'authenticated');
    assert.ok(exact.authenticateNow(request));
    const under = clocked({ max_token_bytes: token.length - 1 }).authenticator;
    assert.deepEqual(await under.authenticate(request), { kind: 'invalid', reason: 'token too large' });
    assert.equal(under.authenticateNow(request), undefined);
  });

  it('a token cached by one authenticator is not served synchronously past a smaller bound', async () => {
    const request = sized(400);
    const token = JSON.parse((request.data?.bytes as Buffer).toString()).token as string;
    const { authenticator } = clocked({ max_token_bytes: token.length - 1 });
    assert.equal(authenticator.authenticateNow(request), undefined);
    assert.deepEqual(await authenticator.authenticate(request), { kind: 'invalid', reason: 'token too large' });
  });

  it('answers no_token when no source has one', async () => {
    const { authenticator } = clocked();
    const request: ConnectRequest = { ...connectWithToken('x'), data: undefined };
    assert.deepEqual(await authenticator.authenticate(request), { kind: 'no_token' });
    assert.equal(authenticator.authenticateNow(request), undefined);
  });
});

describe('jwt-authenticator: claims', () => {
  const claims = (over: Record<string, unknown> = {}) => configSchema.parse({ auth: { claims: over } }).auth.claims;

  it('maps user, roles (array or spaced/comma string) and info by dotted paths', () => {
    assert.deepEqual(mapClaims({ sub: 'u', roles: ['a', '', 3, 'b'] }, claims()), { user: 'u', roles: ['a', 'b'] });
    assert.deepEqual(mapClaims({ sub: 'u', roles: 'a, b  c,,d' }, claims()), { user: 'u', roles: ['a', 'b', 'c', 'd'] });
    assert.deepEqual(mapClaims({ sub: 'u', roles: '' }, claims()), { user: 'u', roles: [] });
    assert.deepEqual(mapClaims({ sub: 'u', roles: 7 }, claims()), { user: 'u', roles: [] });
    assert.deepEqual(mapClaims({ sub: 'u', roles: ['a'] }, claims({ roles: '' })), { user: 'u', roles: [] });
    assert.deepEqual(
      mapClaims({ sub: 'u', exp: 5, realm: { access: { roles: ['r'] } }, name: 'N', org: { id: 1 } }, claims({ roles: 'realm.access.roles', info: ['name', 'org.id', 'missing'] })),
      { user: 'u', roles: ['r'], expireAt: 5, info: { name: 'N', 'org.id': 1 } },
    );
    assert.deepEqual(mapClaims({ sub: 'u', realm: null }, claims({ roles: 'realm.access' })), { user: 'u', roles: [] });
    assert.deepEqual(mapClaims({ sub: 'u', realm: 'text' }, claims({ roles: 'realm.length' })), { user: 'u', roles: [] });
    // A string claim has no sub-claims (its length is not one), and roles "" reads no claim at all.
    assert.deepEqual(mapClaims({ sub: 'u', name: 'N' }, claims({ info: ['name.length'] })), { user: 'u', roles: [], info: {} });
    assert.deepEqual(mapClaims({ sub: 'u', '': ['x'] }, claims({ roles: '' })), { user: 'u', roles: [] });
    assert.deepEqual(mapClaims({ sub: 'u', roles: ',a b,' }, claims()), { user: 'u', roles: ['a', 'b'] });
  });

  it('has no identity without a non-empty string user', async () => {
    assert.equal(mapClaims({ sub: '' }, claims()), undefined);
    assert.equal(mapClaims({ sub: 5 } as never, claims()), undefined);
    assert.equal(mapClaims({}, claims()), undefined);
    const { authenticator } = clocked();
    assert.deepEqual(await authenticator.authenticate(connectWithToken(hs256({ exp: S0 + 60 }))), {
      kind: 'invalid',
      reason: 'claim "sub" missing or not a string',
    });
  });
});

describe('jwt-authenticator: a local key set (jwks_file)', () => {
  it('verifies an RS256 token by kid against the file, refuses an unknown kid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-jwks-'));
    try {
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [jwkOf(rsa.publicKey, 'k1', 'RS256')] }));
      const { authenticator } = clocked({ hmac_secret: '', jwks_file: file, algorithms: ['RS256'] });
      const signed = (kid: string) => signJwt({ alg: 'RS256', typ: 'JWT', kid }, { sub: 'u', exp: S0 + 60 }, { alg: 'RS256', privateKey: rsa.privateKey });
      assert.deepEqual(await authenticator.authenticate(connectWithToken(signed('k1'))), { kind: 'authenticated', identity: { user: 'u', roles: [], expireAt: S0 + 60 } });
      assert.equal((await authenticator.authenticate(connectWithToken(signed('k2')))).kind, 'invalid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('jwt-authenticator: the shared cache key changes with every verification setting', () => {
  /** The Redis key a verified token is stored under, for a given auth config. */
  async function keyOf(jwt: Record<string, unknown>, extra: Record<string, unknown> = {}, keyFile?: [string, string]): Promise<string> {
    const keys: string[] = [];
    const store = {
      key: (...parts: string[]) => parts.join(':'),
      attempt: async (_op: string, call: (c: unknown) => Promise<unknown>) => call({ get: async () => null, set: async (key: string) => void keys.push(key) }),
    } as unknown as RedisStore;
    if (keyFile) writeFileSync(keyFile[0], keyFile[1]);
    const authenticator = new JwtAuthenticator(authOf(jwt, extra), () => T0, undefined, store);
    assert.equal((await authenticator.authenticate(connectWithToken(hs256({ sub: 'u', exp: S0 + 60 })))).kind, 'authenticated');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(keys.length, 1);
    assert.match(keys[0] as string, /^t:[0-9a-f]{16}:[A-Za-z0-9+/]{43}=$/);
    return keys[0] as string;
  }

  it('is the same for the same settings and differs for each setting and key file content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-fp-'));
    try {
      const pem = join(dir, 'pub.pem');
      const base = await keyOf({});
      assert.equal(await keyOf({}), base);
      const variants = [
        await keyOf({ algorithms: ['HS256', 'RS256'] }),
        await keyOf({ require_exp: false }),
        await keyOf({}, { claims: { roles: 'groups' } }),
        await keyOf({ jwks_url: 'https://idp/keys' }),
        await keyOf({ public_key_file: pem }, {}, [pem, rsaPublicPem]),
        await keyOf({ public_key_file: pem }, {}, [pem, rsaPublicPem + '\n']),
      ];
      assert.equal(new Set([base, ...variants]).size, 1 + variants.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('jwt-authenticator: a remote key set that cannot be fetched', () => {
  it('answers keys_unavailable (not invalid) and is not ready', async () => {
    const auth = authOf({ hmac_secret: '', jwks_url: 'http://127.0.0.1:1/keys', jwks_timeout: '200ms', algorithms: ['RS256'] });
    const authenticator = new JwtAuthenticator(auth, () => T0, undefined, undefined, 500);
    try {
      assert.equal(authenticator.notReadyReason(), 'signing keys not loaded yet');
      const token = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'k1' }, { sub: 'u', exp: S0 + 60 }, { alg: 'RS256', privateKey: rsa.privateKey });
      assert.deepEqual(await authenticator.authenticate(connectWithToken(token)), { kind: 'keys_unavailable' });
      assert.equal(authenticator.keysUnavailable(), true);
    } finally {
      authenticator.stop();
    }
  });
});

describe('jwt-authenticator: readiness without remote keys', () => {
  it('is ready and never keys-unavailable with local keys', () => {
    const { authenticator } = clocked();
    authenticator.start();
    assert.equal(authenticator.notReadyReason(), undefined);
    assert.equal(authenticator.keysUnavailable(), false);
    authenticator.stop();
  });
});
