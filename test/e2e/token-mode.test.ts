/**
 * Token mode against the real Centrifugo v6.9.1 in JWT mode, started from
 * deploy/centrifugo/config-token-mode.json with the HMAC secret and API key given as
 * CENTRIFUGO_* overrides: `centrifuge` SDK clients get their connection and subscription tokens
 * from /api/token and /api/subscription-token (getToken), Centrifugo accepts them and refuses
 * expired and foreign ones, and backends publish through /api/publish to subscribed clients.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { jwks, nowSeconds, rs256 } from '../helpers/tokens.js';
import { e2eSuiteOptions, freePort, ROOT, startCentrifugo, type Centrifugo } from './helpers/centrifugo.js';
import { makeClient, pause, subscribe, type RecordedClient } from './helpers/clients.js';

const ISSUER = 'https://issuer.e2e';
const AUDIENCE = 'token-mode-e2e';
const CONNECTION_SECRET = 'e2e-token-mode-hmac-secret-0123456789abcdef';
const BACKEND_KEY = 'e2e-backend-orders-key-0123456789';

const userToken = (sub: string, roles: string[] = [], extra: Record<string, unknown> = {}) =>
  rs256({ sub, iss: ISSUER, aud: AUDIENCE, iat: nowSeconds() - 5, exp: nowSeconds() + 3600, ...(roles.length ? { roles } : {}), ...extra });

/** An HS256 token signed here with node:crypto, for tokens the service would never mint. */
function hs256(claims: Record<string, unknown>, secret: string): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('e2e token mode: the real Centrifugo in JWT mode', e2eSuiteOptions(), () => {
  let app: App;
  let centrifugo: Centrifugo;
  let base: string;
  const clients: RecordedClient[] = [];
  const client = (options: Parameters<typeof makeClient>[1]) => {
    const made = makeClient(centrifugo.wsUrl, options);
    clients.push(made);
    return made;
  };

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** What an app's getToken does: trade the user's token for a Centrifugo one. */
  const connectionToken = (user: string) => async () => {
    const answer = await post('/api/token', {}, { authorization: `Bearer ${user}` });
    if (answer.status !== 200) throw new Error(`/api/token answered ${answer.status}`);
    return answer.body.token as string;
  };
  const subscriptionToken = (user: string, channel: string) => async () => {
    const answer = await post('/api/subscription-token', { channel }, { authorization: `Bearer ${user}` });
    if (answer.status !== 200) throw new Error(`/api/subscription-token answered ${answer.status}`);
    return answer.body.token as string;
  };

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-e2e-token-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    appendFileSync(join(dir, 'policies/policy.csv'), '\np, backend:orders, chat:*, publish, allow\np, backend:orders, personal:*, publish, allow\n');
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks()));
    const centrifugoPort = await freePort();
    const yaml = `
http: { port: 0, host: 127.0.0.1 }
grpc: { enabled: false }
auth:
  jwt: { algorithms: [RS256], issuer: ${ISSUER}, audience: ${AUDIENCE}, jwks_file: ./jwks.json }
  claims: { user: sub, roles: roles, info: [name] }
  channels: ["personal:{user}"]
policy: { model: ./policies/model.conf, policy: ./policies/policy.csv, tests: ./policies/tests, watch: false }
log: { level: silent }
token_mode:
  enabled: true
  connection: { algorithm: HS256, hmac_secret: ${CONNECTION_SECRET}, lifetime: 10m }
  publish:
    api_keys: [{ key: ${BACKEND_KEY}, subject: "backend:orders" }]
    centrifugo_url: http://127.0.0.1:${centrifugoPort}/api
    centrifugo_api_key: e2e-centrifugo-api-key
    timeout: 1s
`;
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, yaml);
    app = buildApp(parseConfig(yaml, configFile), { log: pino({ level: 'silent' }) });
    const { httpPort } = await app.start();
    base = `http://127.0.0.1:${httpPort}`;
    try {
      centrifugo = await startCentrifugo({
        transport: 'http',
        configFile: 'config-token-mode.json',
        port: centrifugoPort,
        proxyHttpUrl: base,
        proxyGrpcAddress: '127.0.0.1:1',
        proxySecret: 'unused-in-token-mode',
        env: { CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY: CONNECTION_SECRET },
      });
    } catch (err) {
      await app.stop();
      throw err;
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await centrifugo?.stop();
    await app?.stop();
  });

  it('a minted connection token connects: the user, info and the server-side personal channel come from its claims', async () => {
    const alice = client({ getToken: connectionToken(userToken('56', ['role:member'], { name: 'Alice' })) });
    alice.client.connect();
    await alice.waitFor((e) => e.type === 'connected', 'connected');
    await alice.waitFor((e) => e.type === 'server-subscribed' && e.channel === 'personal:56', 'server-side personal:56 from the channels claim');
    const published = await post('/api/publish', { channel: 'personal:56', data: { hello: 'alice' } }, { 'x-api-key': BACKEND_KEY });
    assert.equal(published.status, 200, JSON.stringify(published.body));
    const pushed = await alice.waitFor((e) => e.type === 'server-publication' && e.channel === 'personal:56', 'publication on the server-side channel');
    assert.deepEqual(pushed.data, { hello: 'alice' });
  });

  it('a minted subscription token subscribes to chat (the namespace admits only tokens); a publish through /api/publish reaches it', async () => {
    const member = userToken('57', ['role:member'], { name: 'Bob' });
    const bob = client({ getToken: connectionToken(member) });
    bob.client.connect();
    await bob.waitFor((e) => e.type === 'connected', 'connected');

    const without = subscribe(bob, 'chat:no-token');
    const refused = await without.waitFor((e) => e.type === 'error' || e.type === 'unsubscribed', 'refusal without a subscription token');
    assert.equal(refused.code, 103, 'permission denied: no subscribe proxy, no allow_subscribe_for_client');
    without.sub.unsubscribe();

    const room = subscribe(bob, 'chat:room-1', { getToken: subscriptionToken(member, 'chat:room-1') });
    await room.waitFor((e) => e.type === 'subscribed', 'subscribed with a minted token');
    // Centrifugo took the user from sub and the connection info from info.
    const presence = (await centrifugo.api('presence', { channel: 'chat:room-1' })) as { result: { presence: Record<string, { user: string; conn_info?: unknown }> } };
    assert.deepEqual(Object.values(presence.result.presence).map((p) => [p.user, p.conn_info]), [['57', { name: 'Bob' }]]);

    const published = await post('/api/publish', { channel: 'chat:room-1', data: { text: 'order shipped' } }, { 'x-api-key': BACKEND_KEY });
    assert.equal(published.status, 200, JSON.stringify(published.body));
    const got = await room.waitFor((e) => e.type === 'publication', 'the publication');
    assert.deepEqual(got.data, { text: 'order shipped' });
  });

  it('a guest gets no subscription token for a members room; the service answers 403 and Centrifugo never sees a token', async () => {
    const guest = userToken('58', ['role:guest']);
    assert.equal((await post('/api/subscription-token', { channel: 'chat:room-1' }, { authorization: `Bearer ${guest}` })).status, 403);
    assert.equal((await post('/api/subscription-token', { channel: 'chat:lobby' }, { authorization: `Bearer ${guest}` })).status, 200);
  });

  it('an expired connection token: Centrifugo says 109, the SDK asks getToken and connects with a fresh one', async () => {
    let calls = 0;
    const expired = hs256({ sub: '59', iat: nowSeconds() - 120, exp: nowSeconds() - 60 }, CONNECTION_SECRET);
    const carol = client({ token: expired, getToken: async () => ((calls += 1), connectionToken(userToken('59'))()) });
    carol.client.connect();
    await carol.waitFor((e) => e.type === 'connected', 'connected after the refresh');
    assert.equal(calls, 1, 'getToken called once, after Centrifugo refused the expired token');
    assert.ok(carol.events.some((e) => e.type === 'error' && e.code === 109), `Centrifugo answered 109 token expired; saw ${JSON.stringify(carol.events)}`);
  });

  it('a foreign connection token (another key) is refused with 3500 invalid token', async () => {
    const foreign = hs256({ sub: '60', exp: nowSeconds() + 600 }, 'some-other-secret-0123456789abcdef0123');
    const eve = client({ token: foreign });
    eve.client.connect();
    const ended = await eve.waitFor((e) => e.type === 'disconnected', 'disconnected');
    assert.deepEqual([ended.code, ended.reason], [3500, 'invalid token']);
    assert.equal(eve.events.filter((e) => e.type === 'connected').length, 0);
  });

  it('foreign and expired subscription tokens are refused; so is one minted for another user', async () => {
    const member = userToken('61', ['role:member']);
    const dave = client({ getToken: connectionToken(member) });
    dave.client.connect();
    await dave.waitFor((e) => e.type === 'connected', 'connected');

    const foreign = subscribe(dave, 'chat:f', { token: hs256({ sub: '61', channel: 'chat:f', exp: nowSeconds() + 600 }, 'another-secret-0123456789abcdef0123456') });
    const denied = await foreign.waitFor((e) => e.type === 'error' || e.type === 'unsubscribed', 'foreign token refused');
    assert.equal(denied.code, 103);
    foreign.sub.unsubscribe();

    let refreshed = 0;
    const expired = subscribe(dave, 'chat:e', {
      token: hs256({ sub: '61', channel: 'chat:e', exp: nowSeconds() - 30 }, CONNECTION_SECRET),
      getToken: async () => ((refreshed += 1), subscriptionToken(member, 'chat:e')()),
    });
    await expired.waitFor((e) => e.type === 'subscribed', 'subscribed after getToken replaced the expired token');
    assert.equal(refreshed, 1);
    assert.ok(expired.events.some((e) => e.type === 'error' && e.code === 109), 'Centrifugo answered 109 token expired first');

    // Minted for user 62: Centrifugo checks sub against the connection's user and disconnects.
    const other = await subscriptionToken(userToken('62', ['role:member']), 'chat:o')();
    subscribe(dave, 'chat:o', { token: other });
    const ended = await dave.waitFor((e) => e.type === 'ws-close' && e.code === 3500, 'the connection closed for the mismatched token');
    assert.equal(ended.reason, 'invalid token');
  });

  it('Centrifugo down: /api/publish answers 503 at once', async () => {
    await centrifugo.stop();
    const started = performance.now();
    const answer = await post('/api/publish', { channel: 'chat:room-1', data: 1 }, { 'x-api-key': BACKEND_KEY });
    assert.equal(answer.status, 503);
    assert.match(answer.body.error as string, /^centrifugo unreachable/);
    assert.ok(performance.now() - started < 1500, 'no hang');
    await pause(0);
  });
});
