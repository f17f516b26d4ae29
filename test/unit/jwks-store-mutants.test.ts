/**
 * JwksStore (src/auth/jwks-store.ts) at its edges, with a fake `fetch` and an injected clock: the
 * request it sends, the exact reasons it gives, the boundaries of the key age and the first-load
 * retry, the wait bound (waitMs), and start()'s back-off (node's mock timers). Written for
 * mutation testing (TESTING.md, "src/auth, the other three files"); jwks-store.test.ts covers a
 * real JWKS endpoint.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { errors, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import { JwksStore, KeysUnavailable, type JwksStoreOptions } from '../../src/auth/jwks-store.js';

const jwk = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });
const keyA = jwk('a');
const keyB = jwk('b');
const header = (kid: string, alg = 'ES256'): JWSHeaderParameters => ({ alg, kid });
const input = {} as FlattenedJWSInput;

type Answer = { status: number; body?: unknown } | 'refuse' | 'hang';

interface FakeFetch {
  calls: Array<{ url: string; accept: string | undefined; signal: AbortSignal | undefined }>;
  /** What the next fetches answer; the last one repeats. */
  answers: Answer[];
  /** Reasons of the fetches that were aborted. */
  aborted: string[];
}

const realFetch = globalThis.fetch;
let fake: FakeFetch;

beforeEach(() => {
  fake = { calls: [], answers: [{ status: 200, body: { keys: [keyA] } }], aborted: [] };
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    const signal = init.signal ?? undefined;
    fake.calls.push({ url, accept: (init.headers as Record<string, string>).accept, signal });
    const answer = fake.answers.length > 1 ? fake.answers.shift()! : fake.answers[0]!;
    if (answer === 'refuse') throw new TypeError('fetch failed');
    if (answer === 'hang') {
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => {
          fake.aborted.push((signal.reason as Error).message);
          reject(signal.reason);
        }),
      );
    }
    return new Response(answer.body === undefined ? '' : JSON.stringify(answer.body), { status: answer.status });
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
  mock.timers.reset();
});

function storeWith(options: Partial<JwksStoreOptions> = {}) {
  const state = { clock: 1_000_000, fetches: [] as boolean[] };
  const store = new JwksStore({
    url: 'https://idp.example/jwks',
    timeoutMs: 200,
    cooldownMs: 30_000,
    maxAgeMs: 600_000,
    now: () => state.clock,
    onFetch: (ok) => state.fetches.push(ok),
    ...options,
  });
  return { store, state, key: (kid: string, alg?: string) => store.getKey(header(kid, alg), input) };
}

const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('JwksStore: the request', () => {
  it('GETs the url asking for JSON or a JWK set, with an abort signal', async () => {
    const { store, key } = storeWith();
    assert.equal(store.loaded(), false);
    assert.equal(store.unavailable(), true);
    assert.ok(await key('a'));
    assert.equal(fake.calls.length, 1);
    assert.equal(fake.calls[0]!.url, 'https://idp.example/jwks');
    assert.equal(fake.calls[0]!.accept, 'application/json, application/jwk-set+json');
    assert.ok(fake.calls[0]!.signal instanceof AbortSignal);
    assert.equal(store.loaded(), true);
    assert.equal(store.unavailable(), false);
  });

  it('a failed first fetch says why: the status, or the fetch error', async () => {
    fake.answers = [{ status: 503 }];
    const first = storeWith();
    await assert.rejects(first.key('a'), (err: Error) => err instanceof KeysUnavailable && err.message === 'JWKS unavailable: JWKS endpoint answered 503');
    assert.deepEqual(first.state.fetches, [false]);
    fake.answers = ['refuse'];
    await assert.rejects(storeWith().key('a'), { message: 'JWKS unavailable: fetch failed' });
    assert.equal(first.store.loaded(), false);
  });

  it('a fetch that outlives timeoutMs is aborted with its own reason', async () => {
    fake.answers = ['hang'];
    const { key } = storeWith({ timeoutMs: 30 });
    await assert.rejects(key('a'), { message: 'JWKS unavailable: JWKS fetch timed out after 30 ms' });
    assert.deepEqual(fake.aborted, ['JWKS fetch timed out after 30 ms']);
  });

  it('the timeout is cleared when the fetch ends: no abort afterwards', async () => {
    const { key } = storeWith({ timeoutMs: 30 });
    await key('a');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(fake.calls[0]!.signal!.aborted, false);
  });
});

describe('JwksStore: refresh and the optional hook', () => {
  it('refresh() after a load resolves even when the fetch fails: the last good keys stay', async () => {
    const { store, state, key } = storeWith();
    await key('a');
    fake.answers = [{ status: 500 }];
    await store.refresh();
    assert.deepEqual(state.fetches, [true, false]);
    assert.ok(await key('a'));
  });

  it('without onFetch, loads and failures work the same', async () => {
    const store = new JwksStore({ url: 'https://idp.example/jwks', timeoutMs: 200, cooldownMs: 0, maxAgeMs: 600_000 });
    assert.ok(await store.getKey(header('a'), input));
    assert.equal(store.unavailable(), false);
    fake.answers = [{ status: 500 }];
    await store.refresh();
    assert.equal(store.unavailable(), true);
  });
});

describe('JwksStore: the first load', () => {
  it('after a failed first fetch, asks again only a full second later', async () => {
    fake.answers = [{ status: 500 }, { status: 200, body: { keys: [keyA] } }];
    const { state, key } = storeWith();
    await assert.rejects(key('a'), KeysUnavailable);
    state.clock += 999;
    await assert.rejects(key('a'), (err: Error) => err instanceof KeysUnavailable && err.message === 'JWKS unavailable (retrying shortly)');
    assert.equal(fake.calls.length, 1);
    state.clock += 1;
    assert.ok(await key('a'));
    assert.equal(fake.calls.length, 2);
  });

  it('concurrent first requests share one fetch', async () => {
    const { key } = storeWith();
    await Promise.all([key('a'), key('a'), key('a')]);
    assert.equal(fake.calls.length, 1);
  });
});

describe('JwksStore: key age and misses', () => {
  it('refreshes in the background only when older than maxAge, and not inside the cooldown', async () => {
    const { state, key } = storeWith({ maxAgeMs: 600_000, cooldownMs: 30_000 });
    await key('a');
    state.clock += 600_000;
    await key('a');
    await turns();
    assert.equal(fake.calls.length, 1, 'exactly maxAge old: not yet');
    state.clock += 1;
    await key('a');
    await turns();
    assert.equal(fake.calls.length, 2, 'older than maxAge: refreshed');
    // A failed refresh (the provider down) still starts the cooldown.
    fake.answers = [{ status: 500 }];
    state.clock += 600_001;
    await key('a');
    await turns();
    assert.equal(fake.calls.length, 3);
    state.clock += 29_999;
    await key('a');
    await turns();
    assert.equal(fake.calls.length, 3, 'the age is past but the cooldown is not');
    assert.deepEqual(state.fetches, [true, true, false]);
  });

  it('an error other than "no matching key" is thrown at once, without a refetch', async () => {
    const { state, key } = storeWith();
    await key('a');
    state.clock += 30_001;
    await assert.rejects(key('a', 'XX256'), errors.JOSENotSupported);
    assert.equal(fake.calls.length, 1);
  });

  it('a kid still missing after the refetch: the token\'s fault when that fetch worked, ours when it failed', async () => {
    const { state, store, key } = storeWith();
    await key('a');
    state.clock += 30_000;
    await assert.rejects(key('b'), (err: Error) => err.constructor === errors.JWKSNoMatchingKey);
    assert.equal(fake.calls.length, 2);
    fake.answers = [{ status: 500 }];
    state.clock += 30_000;
    await assert.rejects(key('b'), (err: Error) => err instanceof KeysUnavailable && err.message === 'key not cached and the JWKS fetch failed: no applicable key found in the JSON Web Key Set');
    assert.equal(store.unavailable(), true);
    assert.equal(store.loaded(), true);
    // Inside the cooldown, no fetch, same answer.
    await assert.rejects(key('b'), { message: 'key not cached and the JWKS fetch failed: no applicable key found in the JSON Web Key Set' });
    assert.equal(fake.calls.length, 3);
    assert.ok(await key('a'), 'the cached key still answers');
    // The provider back with the new kid: found after one refetch.
    fake.answers = [{ status: 200, body: { keys: [keyA, keyB] } }];
    state.clock += 30_000;
    assert.ok(await key('b'));
    assert.equal(store.unavailable(), false);
  });

  it('a miss while a refresh is in flight waits for that refresh instead of starting one', async () => {
    const { state, store, key } = storeWith();
    await key('a');
    fake.answers = [{ status: 200, body: { keys: [keyA, keyB] } }];
    state.clock += 10;
    const refreshing = store.refresh();
    assert.ok(await key('b'), 'found in the refresh already running, though inside the cooldown');
    await refreshing;
    assert.equal(fake.calls.length, 2);
  });
});

describe('JwksStore: waitMs', () => {
  it('a request stops waiting after waitMs with "keys unavailable"; the fetch carries on for the next', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    globalThis.fetch = (async () => (await gate, new Response(JSON.stringify({ keys: [keyA] })))) as unknown as typeof fetch;
    const { store, key } = storeWith({ waitMs: 20, timeoutMs: 5000 });
    const started = performance.now();
    await assert.rejects(key('a'), (err: Error) => err instanceof KeysUnavailable && err.message === 'JWKS fetch still in flight after 20 ms');
    assert.ok(performance.now() - started < 1000);
    release();
    await turns();
    assert.equal(store.loaded(), true);
    assert.ok(await key('a'));
  });

  it('a fetch that ends within waitMs answers, and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const { key } = storeWith({ waitMs: 3000 });
    const before = timers();
    assert.ok(await key('a'));
    assert.equal(timers(), before, 'the wait bound and the fetch timeout are both cleared');
  });
});

describe('JwksStore: start and stop', () => {
  it('start loads at once; a failed first load is retried after 1, 2, 4, 8 s, then every 15 s', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    fake.answers = ['refuse'];
    const { store } = storeWith();
    store.start();
    await turns();
    assert.equal(fake.calls.length, 1);
    const expectRetryAfter = async (ms: number) => {
      const before = fake.calls.length;
      mock.timers.tick(ms - 1);
      await turns();
      assert.equal(fake.calls.length, before, `not before ${ms} ms`);
      mock.timers.tick(1);
      await turns();
      assert.equal(fake.calls.length, before + 1, `after ${ms} ms`);
    };
    for (const ms of [1000, 2000, 4000, 8000, 15_000, 15_000]) await expectRetryAfter(ms);
    // Once loaded, no more retries.
    fake.answers = [{ status: 200, body: { keys: [keyA] } }];
    await expectRetryAfter(15_000);
    assert.equal(store.loaded(), true);
    mock.timers.tick(60_000);
    await turns();
    assert.equal(fake.calls.length, 8);
    store.stop();
  });

  it('stop ends the retries and aborts a fetch in flight; start again resumes', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    fake.answers = ['refuse'];
    const { store, state } = storeWith();
    store.start();
    await turns();
    store.stop();
    mock.timers.tick(60_000);
    await turns();
    assert.equal(fake.calls.length, 1, 'no retry after stop');

    fake.answers = ['hang'];
    store.start();
    await turns();
    assert.equal(fake.calls.length, 2);
    store.stop();
    await turns();
    assert.deepEqual(fake.aborted, ['stopped']);
    assert.deepEqual(state.fetches, [false, false]);
    mock.timers.tick(60_000);
    await turns();
    assert.equal(fake.calls.length, 2, 'a fetch ended by stop is not retried');
  });
});
