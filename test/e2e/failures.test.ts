/**
 * Our own failures as the user sees them through the real Centrifugo, over both proxy
 * transports: a stalled refresh keeps the connection (grace extension, never an error
 * Centrifugo would read as "expired"), a policy change reaches live subscriptions through
 * sub_refresh, and an identity provider outage makes clients retry instead of giving up.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RevocationList } from '../../src/auth/revocations.js';
import { e2eSuiteOptions, PROXY_TRANSPORTS } from './helpers/centrifugo.js';
import { makeClient, pause, subscribe, type RecordedClient } from './helpers/clients.js';
import { startStack, type Stack } from './helpers/stack.js';
import { startJwksServer, type JwksServer } from '../helpers/more-tokens.js';
import { jwks, nowSeconds } from '../helpers/tokens.js';

/** Sum of one counter's series whose labels contain `labelText`. */
async function counter(stack: Stack, name: string, labelText = ''): Promise<number> {
  const text = await stack.app.metrics.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labelText))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

for (const transport of PROXY_TRANSPORTS) {
  describe(`e2e a stalled refresh, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    let user: RecordedClient | undefined;
    let stalled = false;
    // Revocation checks that hang once `stalled` is set: the refresh decision then times out.
    const revocations: RevocationList = {
      isRevoked: () => (stalled ? new Promise<boolean>(() => {}) : Promise.resolve(false)),
    };
    before(async () => {
      stack = await startStack({
        transport,
        authYaml: '  refresh_interval: 2s\n  failure_extension: 2s',
        serviceYaml: 'server: { decision_timeout: 200ms }',
        overrides: { revocations },
      });
    });
    after(async () => {
      user?.close();
      await stack?.stop();
    });

    it('the connection outlives its token while every refresh decision times out (grace extensions)', async () => {
      user = makeClient(stack.centrifugo.wsUrl, { getData: async () => ({ token: stack.token('101', [], { exp: nowSeconds() + 2 }) }) });
      user.client.connect();
      await user.waitFor((e) => e.type === 'connected', 'connected');
      stalled = true;
      // Two refreshes past the token's exp, each answered with a grace extension (polled: a busy
      // machine only makes this slower).
      const deadline = Date.now() + 20_000;
      while ((await counter(stack, 'cpp_refresh_fallback_total', 'event="refresh"')) < 2) {
        assert.ok(Date.now() < deadline, `no two grace extensions within 20 s: ${JSON.stringify(user.events)}`);
        await pause(200);
      }
      await pause(300);
      assert.equal(user.events.filter((e) => e.type === 'ws-close').length, 0, `never closed: ${JSON.stringify(user.events)}`);
      assert.equal(user.client.state, 'connected');
    });
  });

  describe(`e2e sub_refresh after a policy change, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    let user: RecordedClient | undefined;
    before(async () => {
      stack = await startStack({
        transport,
        authYaml: '  subscription_lifetime: 1s',
        // Centrifugo checks subscription expiry on its presence timer (27 s by default) after a
        // close delay (25 s): shortened so the test takes seconds, not a minute.
        centrifugoEnv: { CENTRIFUGO_CLIENT_PRESENCE_UPDATE_INTERVAL: '1s', CENTRIFUGO_CLIENT_EXPIRED_SUB_CLOSE_DELAY: '1s' },
      });
    });
    after(async () => {
      user?.close();
      await stack?.stop();
    });

    it('a live subscription is kept while allowed and ended once a hot-reloaded policy denies it', async () => {
      user = makeClient(stack.centrifugo.wsUrl, { data: { token: stack.token('102', ['role:member']) } });
      user.client.connect();
      await user.waitFor((e) => e.type === 'connected', 'connected');
      const sub = subscribe(user, 'chat:live');
      await sub.waitFor((e) => e.type === 'subscribed', 'subscribed');
      // Wait for two sub_refresh calls (Centrifugo's timers run at second granularity; polled,
      // not a fixed pause, so a busy machine only makes the test slower).
      const deadline = Date.now() + 15_000;
      while ((await counter(stack, 'cpp_decisions_total', 'event="sub_refresh",decision="result"')) < 2) {
        assert.ok(Date.now() < deadline, `sub_refresh was not called twice within 15 s: ${JSON.stringify(sub.events)}`);
        await pause(200);
      }
      assert.equal(sub.sub.state, 'subscribed', `still subscribed after extensions: ${JSON.stringify(sub.events)}`);
      assert.equal(sub.events.filter((e) => e.type === 'unsubscribed' || (e.type === 'subscribing' && (e.code ?? 0) > 0)).length, 0, 'never resubscribed');

      appendFileSync(`${stack.policyDir}/policy.csv`, '\np, 102, chat:*, subscribe, deny\np, 102, chat:*, sub_refresh, deny\n');
      const expired = await sub.waitFor((e) => e.type === 'subscribing' && (e.code ?? 0) > 0, 'the subscription expired', 10_000);
      assert.equal(expired.reason, 'subscription expired');
      const ended = await sub.waitFor((e) => e.type === 'unsubscribed', 'resubscribe refused', 5000);
      assert.equal(ended.code, 403);
      assert.equal(user.client.state, 'connected', 'only the subscription ended, not the connection');
    });
  });

  describe(`e2e identity provider down, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    let idp: JwksServer;
    let user: RecordedClient | undefined;
    before(async () => {
      idp = await startJwksServer(jwks());
      idp.mode = 'error';
      stack = await startStack({ transport, jwtKeysYaml: `    jwks_url: ${idp.url}` });
    });
    after(async () => {
      user?.close();
      await stack?.stop();
      await idp?.close();
    });

    it('clients get a temporary error and keep retrying; they connect once the keys can be fetched', async () => {
      user = makeClient(stack.centrifugo.wsUrl, { data: { token: stack.token('103') } });
      user.client.connect();
      const error = await user.waitFor((e) => e.type === 'error' && e.code === 503, 'a 503 connect error');
      assert.deepEqual([error.reason, error.temporary], ['keys unavailable', true]);
      await pause(600);
      assert.notEqual(user.client.state, 'disconnected', 'not terminal');
      idp.mode = 'ok';
      await user.waitFor((e) => e.type === 'connected', 'connected after the identity provider came back', 10_000);
    });
  });
}
