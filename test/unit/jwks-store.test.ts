/**
 * JwksStore against a real JWKS endpoint (node:http on a port chosen by the OS): key rotation,
 * an identity-provider outage, fetch storms, and a first fetch that fails. The store's clock is
 * injected, so cooldowns and key ages pass without waiting; tokens are signed with node:crypto.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { errors, jwtVerify } from 'jose';
import { JwksStore, KeysUnavailable } from '../../src/auth/jwks-store.js';
import { JwtAuthenticator } from '../../src/auth/jwt-authenticator.js';
import { configSchema } from '../../src/config/schema.js';
import type { ConnectRequest } from '../../src/core/messages.js';
import { connectWithToken, jwkOf, rs256With, startJwksServer, type JwksServer } from '../helpers/more-tokens.js';
import { nowSeconds, rsa, rsaOther } from '../helpers/tokens.js';

const COOLDOWN = 30_000;
const MAX_AGE = 10 * 60_000;
// Long enough for a first fetch on a loaded machine (300 ms failed under a mutation run), short enough to wait out.
const TIMEOUT = 1000;

const oldKey = jwkOf(rsa.publicKey, 'rsa-1', 'RS256');
const newKey = jwkOf(rsaOther.publicKey, 'rsa-2', 'RS256');
const claims = () => ({ sub: '56', exp: nowSeconds() + 3600 });
const oldToken = () => rs256With(rsa.privateKey, 'rsa-1', claims());
const newToken = () => rs256With(rsaOther.privateKey, 'rsa-2', claims());

const servers: JwksServer[] = [];
async function idp(keys: Record<string, unknown>[] = [oldKey]): Promise<JwksServer> {
  const server = await startJwksServer({ keys });
  servers.push(server);
  return server;
}
after(() => Promise.all(servers.map((s) => s.close())));

/** A store on an injected clock; `fetches` records onFetch outcomes. */
function storeFor(server: { url: string }, timeoutMs = TIMEOUT) {
  const state = { clock: 1_000_000, fetches: [] as boolean[] };
  const store = new JwksStore({
    url: server.url,
    timeoutMs,
    cooldownMs: COOLDOWN,
    maxAgeMs: MAX_AGE,
    now: () => state.clock,
    onFetch: (ok) => state.fetches.push(ok),
  });
  const verify = async (token: string) => (await jwtVerify(token, store.getKey, { algorithms: ['RS256'] })).payload.sub;
  return { store, state, verify };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Waits until `check` holds (background refreshes are not awaited by anybody). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await tick();
  assert.ok(check(), what);
}

describe('JwksStore: key rotation', () => {
  it('a new kid is accepted after exactly one refetch once the endpoint serves the new key', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    assert.equal(await verify(oldToken()), '56');
    assert.equal(server.hits, 1);

    server.jwks = { keys: [oldKey, newKey] };
    state.clock += COOLDOWN + 1;
    assert.equal(await verify(newToken()), '56');
    assert.equal(server.hits, 2, 'one refetch for the unknown kid');
    assert.equal(await verify(newToken()), '56');
    assert.equal(await verify(oldToken()), '56');
    assert.equal(server.hits, 2, 'both kids now served from memory');
    assert.deepEqual(state.fetches, [true, true]);
  });

  it('a kid seen before the provider publishes it is refused without refetching until the cooldown ends', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    state.clock += COOLDOWN + 1;
    await assert.rejects(verify(newToken()), errors.JWKSNoMatchingKey);
    assert.equal(server.hits, 2, 'refetched once, key not there yet');

    server.jwks = { keys: [oldKey, newKey] };
    state.clock += COOLDOWN - 1;
    await assert.rejects(verify(newToken()), errors.JWKSNoMatchingKey);
    assert.equal(server.hits, 2, 'no refetch inside the cooldown');

    state.clock += 1;
    assert.equal(await verify(newToken()), '56');
    assert.equal(server.hits, 3);
  });

  it('50 concurrent tokens with the new kid are all accepted after one refetch', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    server.jwks = { keys: [oldKey, newKey] };
    state.clock += COOLDOWN + 1;
    const subs = await Promise.all(Array.from({ length: 50 }, () => verify(newToken())));
    assert.deepEqual(new Set(subs), new Set(['56']));
    assert.equal(server.hits, 2);
  });

  it('a new kid first seen after maxAge is accepted on that first request', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    server.jwks = { keys: [oldKey, newKey] };
    state.clock += MAX_AGE + 1;
    assert.equal(await verify(newToken()), '56');
    assert.equal(server.hits, 2, 'the one refresh served both the age and the miss');
    assert.equal(await verify(newToken()), '56');
    assert.equal(server.hits, 2);
  });

  it('keys older than maxAge are refreshed in the background, picking up a rotation before any miss', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    server.jwks = { keys: [newKey] };
    state.clock += MAX_AGE + 1;
    assert.equal(await verify(oldToken()), '56', 'answered from the keys in memory, not awaiting the refresh');
    await until(() => state.fetches.length === 2, 'background refresh done');
    assert.equal(await verify(newToken()), '56');
    assert.equal(server.hits, 2);
    await assert.rejects(verify(oldToken()), errors.JWKSNoMatchingKey, 'the retired key is gone after the refresh');
  });
});

describe('JwksStore: identity provider down', () => {
  it('answering 500: cached keys keep verifying; unknown kids are KeysUnavailable (not the token\'s fault)', async () => {
    const server = await idp([oldKey]);
    const { store, state, verify } = storeFor(server);
    await verify(oldToken());
    server.mode = 'error';

    state.clock += MAX_AGE + 1;
    assert.equal(await verify(oldToken()), '56');
    await until(() => state.fetches.length === 2, 'background refresh attempted');
    assert.deepEqual(state.fetches, [true, false]);
    assert.equal(await verify(oldToken()), '56', 'a failed refresh keeps the last good keys');

    state.clock += COOLDOWN + 1;
    await assert.rejects(verify(newToken()), KeysUnavailable);
    assert.deepEqual(state.fetches, [true, false, false]);
    for (let i = 0; i < 10; i++) assert.equal(await verify(oldToken()), '56');
    await assert.rejects(verify(newToken()), KeysUnavailable, 'inside the cooldown too, while the last fetch failed');
    assert.equal(server.hits, 3, 'failed refreshes are not retried inside the cooldown');
    assert.equal(store.unavailable(), true);

    // The provider is back and serves a key set without this kid: now it is the token's fault.
    server.mode = 'ok';
    state.clock += COOLDOWN + 1;
    await assert.rejects(verify(newToken()), errors.JWKSNoMatchingKey);
    assert.equal(store.unavailable(), false);
  });

  it('endpoint closed: cached keys keep verifying', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    await server.close();

    state.clock += MAX_AGE + COOLDOWN;
    assert.equal(await verify(oldToken()), '56');
    await until(() => state.fetches.length === 2, 'background refresh attempted');
    state.clock += COOLDOWN + 1;
    await assert.rejects(verify(newToken()), KeysUnavailable);
    assert.deepEqual(state.fetches, [true, false, false]);
    assert.equal(await verify(oldToken()), '56');
  });

  it('endpoint hanging: cached kids answer at once; unknown kids give up after the timeout', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    server.mode = 'hang';

    state.clock += MAX_AGE + 1;
    const started = performance.now();
    assert.equal(await verify(oldToken()), '56');
    await until(() => server.hits === 2, 'background refresh sent');
    assert.equal(await verify(oldToken()), '56');
    assert.ok(performance.now() - started < TIMEOUT, 'cached keys never wait for a hanging refresh');
    await until(() => state.fetches.length === 2, 'background refresh timed out');

    state.clock += COOLDOWN + 1;
    const missStarted = performance.now();
    await assert.rejects(verify(newToken()), KeysUnavailable);
    const waited = performance.now() - missStarted;
    assert.ok(waited >= TIMEOUT - 50 && waited < TIMEOUT + 1000, `unknown kid waited ${Math.round(waited)} ms`);
    assert.equal(await verify(oldToken()), '56');
  });
});

describe('JwksStore: no fetch storm', () => {
  it('50 concurrent verifications with an unknown kid cause one fetch per cooldown', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    const unknown = rs256With(rsaOther.privateKey, 'rsa-unknown', claims());

    state.clock += COOLDOWN + 1;
    const first = await Promise.allSettled(Array.from({ length: 50 }, () => verify(unknown)));
    assert.ok(first.every((r) => r.status === 'rejected' && r.reason instanceof errors.JWKSNoMatchingKey));
    assert.equal(server.hits, 2, 'one refetch for 50 concurrent misses');

    await Promise.allSettled(Array.from({ length: 50 }, () => verify(unknown)));
    for (let i = 0; i < 20; i++) await assert.rejects(verify(unknown));
    state.clock += COOLDOWN - 1;
    await Promise.allSettled(Array.from({ length: 50 }, () => verify(unknown)));
    assert.equal(server.hits, 2, 'no refetch inside the cooldown');

    state.clock += 1;
    await Promise.allSettled(Array.from({ length: 50 }, () => verify(unknown)));
    assert.equal(server.hits, 3, 'one refetch once the cooldown is over');
  });

  it('50 concurrent misses while the provider is slow still share one fetch', async () => {
    const server = await idp([oldKey]);
    const { state, verify } = storeFor(server);
    await verify(oldToken());
    server.mode = 'hang';
    state.clock += COOLDOWN + 1;
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => verify(newToken())));
    assert.ok(results.every((r) => r.status === 'rejected'));
    assert.equal(server.hits, 2);
    assert.deepEqual(state.fetches, [true, false]);
  });

  it('50 concurrent verifications on a cold store share the first fetch', async () => {
    const server = await idp([oldKey]);
    const { verify } = storeFor(server);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(oldToken())));
    assert.ok(results.every((sub) => sub === '56'));
    assert.equal(server.hits, 1);
  });
});

describe('JwksStore: first fetch failing', () => {
  const request = (token: string): ConnectRequest => connectWithToken(token);
  const clock = { now: Date.now() };
  const authenticator = (url: string) => new JwtAuthenticator(configSchema.parse({ auth: { jwt: { jwks_url: url } } }).auth, () => clock.now);

  it('a 500 on the first fetch makes verification fail with KeysUnavailable (a JWKSTimeout), not crash', async () => {
    const server = await idp();
    server.mode = 'error';
    const { store, state, verify } = storeFor(server);
    assert.equal(store.unavailable(), true);
    await assert.rejects(verify(oldToken()), KeysUnavailable);
    await assert.rejects(verify(oldToken()), errors.JWKSTimeout);
    assert.deepEqual(state.fetches, [false]);
  });

  for (const [what, setUp] of [
    ['answers 500', async (s: JwksServer) => void (s.mode = 'error')],
    ['answers a body that is not a JWKS', async (s: JwksServer) => void (s.jwks = { keys: 'nope' })],
    ['answers an empty body', async (s: JwksServer) => void (s.jwks = undefined)],
    ['hangs past the timeout', async (s: JwksServer) => void (s.mode = 'hang')],
    ['is not listening', (s: JwksServer) => s.close()],
  ] as const) {
    it(`JwtAuthenticator: a first fetch that ${what} is keys_unavailable (not invalid), and recovery needs no restart`, async () => {
      const server = await idp([oldKey]);
      await setUp(server);
      const auth = authenticator(server.url);
      const outcome = await auth.authenticate(request(oldToken()));
      assert.deepEqual(outcome, { kind: 'keys_unavailable' });
      if (what === 'is not listening') return;
      server.mode = 'ok';
      server.jwks = { keys: [oldKey] };
      // Within a second of the failed fetch nobody asks the identity provider again…
      const hits = server.hits;
      assert.deepEqual(await auth.authenticate(request(oldToken())), { kind: 'keys_unavailable' });
      assert.equal(server.hits, hits);
      // …after it, the next connect fetches and succeeds.
      clock.now += 1001;
      const recovered = await auth.authenticate(request(oldToken()));
      assert.equal(recovered.kind, 'authenticated');
    });
  }
});
