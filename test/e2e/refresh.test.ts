/**
 * Connection refresh through the real Centrifugo over both proxy transports: a short-lived
 * connection is extended by refresh calls while the user stays allowed, and a revocation ends
 * it at the next refresh (Centrifugo closes it as expired; the SDK reconnects and connect then
 * refuses the revoked user for good).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { e2eSuiteOptions, PROXY_TRANSPORTS } from './helpers/centrifugo.js';
import { makeClient, pause, type RecordedClient } from './helpers/clients.js';
import { startStack, type Stack } from './helpers/stack.js';
import { nowSeconds } from '../helpers/tokens.js';

/** How many refresh answers of a kind the service gave (from its own metrics). */
async function refreshCount(stack: Stack): Promise<number> {
  const text = await stack.app.metrics.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith('cpp_decisions_total{') && line.includes('event="refresh"'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

for (const transport of PROXY_TRANSPORTS) {
  describe(`e2e refresh, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    const clients: RecordedClient[] = [];

    before(async () => {
      stack = await startStack({ transport, authYaml: '  refresh_interval: 2s' });
    });
    after(async () => {
      for (const c of clients) c.close();
      await stack?.stop();
    });

    it('a connection whose token expires in 2 s stays up through refreshes, then a revocation ends it', async () => {
      // As a real application does: every (re)connect gets a freshly issued short-lived token.
      const user = makeClient(stack.centrifugo.wsUrl, { getData: async () => ({ token: stack.token('81', [], { exp: nowSeconds() + 2 }) }) });
      clients.push(user);
      user.client.connect();
      await user.waitFor((e) => e.type === 'connected', 'connected');
      // Two refreshes, the second one past the token's own exp (polled, not a fixed pause).
      const deadline = Date.now() + 20_000;
      while ((await refreshCount(stack)) < 2) {
        assert.ok(Date.now() < deadline, `Centrifugo did not call refresh twice within 20 s: ${JSON.stringify(user.events)}`);
        await pause(200);
      }
      assert.equal(user.client.state, 'connected', `still connected after the token's exp: ${JSON.stringify(user.events)}`);
      assert.equal(user.events.filter((e) => e.type === 'ws-close').length, 0, 'the connection was never closed');

      await stack.revoke('81');
      const expired = await user.waitFor((e) => e.type === 'connecting' && e.code === 3005, 'closed as expired at the next refresh', 10_000);
      assert.equal(expired.reason, 'connection expired');
      const ended = await user.waitFor((e) => e.type === 'disconnected', 'refused on reconnect');
      assert.equal(ended.code, 4503);
    });
  });
}
