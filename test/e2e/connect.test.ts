/**
 * Connect through the real Centrifugo, over both proxy transports: what a `centrifuge` SDK
 * client sees for good, bad, expired, revoked and banned tokens, in connect data and in an
 * emulated Authorization header.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { e2eSuiteOptions, PROXY_TRANSPORTS } from './helpers/centrifugo.js';
import { pause } from './helpers/clients.js';
import { useStack } from './helpers/stack.js';
import { nowSeconds } from '../helpers/tokens.js';

for (const transport of PROXY_TRANSPORTS) {
  describe(`e2e connect, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    const suite = useStack({ transport });
    const client = suite.client;

    it('a token in connect data: connected, info visible to others, server-side personal channel receives', async () => {
      const alice = client({ data: { token: suite.stack.token('56', ['role:member'], { name: 'Alice' }) } });
      alice.client.connect();
      await alice.waitFor((e) => e.type === 'connected', 'connected');
      await alice.waitFor((e) => e.type === 'server-subscribed' && e.channel === 'personal:56', 'server-side subscription to personal:56');

      await suite.stack.centrifugo.api('publish', { channel: 'personal:56', data: { hello: 'alice' } });
      const delivered = await alice.waitFor((e) => e.type === 'server-publication', 'publication on personal:56');
      assert.deepEqual({ channel: delivered.channel, data: delivered.data }, { channel: 'personal:56', data: { hello: 'alice' } });

      const channels = (await suite.stack.centrifugo.api('channels', {})) as { result: { channels: Record<string, { num_clients: number }> } };
      assert.deepEqual(channels.result.channels['personal:56'], { num_clients: 1 }, 'Centrifugo lists the server-side subscription');
    });

    it('a token in an emulated Authorization header connects as its user', async () => {
      const bob = client({ headers: { Authorization: `Bearer ${suite.stack.token('77', [], { name: 'Bob' })}` } });
      bob.client.connect();
      await bob.waitFor((e) => e.type === 'connected', 'connected');
      await bob.waitFor((e) => e.type === 'server-subscribed' && e.channel === 'personal:77', 'server-side personal:77 (the user came from the header token)');
    });

    it('a bad signature: disconnected with 4501 and no reconnect', async () => {
      const forged = suite.stack.token('56').replace(/\.[^.]+$/, '.AAAA');
      const eve = client({ data: { token: forged } });
      eve.client.connect();
      const ended = await eve.waitFor((e) => e.type === 'disconnected', 'disconnected');
      assert.deepEqual([ended.code, ended.reason], [4501, 'unauthorized']);
      const closed = await eve.waitFor((e) => e.type === 'ws-close', 'close frame');
      assert.deepEqual([closed.code, closed.reason], [4501, 'unauthorized']);
      await pause(600);
      assert.equal(eve.events.filter((e) => e.type === 'connected').length, 0);
      assert.equal(eve.client.state, 'disconnected', 'a terminal code: the SDK does not reconnect');
    });

    it('no token at all: 4501', async () => {
      const nobody = client({});
      nobody.client.connect();
      const ended = await nobody.waitFor((e) => e.type === 'disconnected', 'disconnected');
      assert.equal(ended.code, 4501);
    });

    it('an expired token: 4001, the SDK reconnects and getData supplies a fresh token', async () => {
      let calls = 0;
      const carol = client({
        getData: async () => {
          calls += 1;
          // The first connect carries an expired token, every later one a fresh token.
          return { token: calls === 1 ? suite.stack.token('56', [], { exp: nowSeconds() - 120 }) : suite.stack.token('56') };
        },
      });
      carol.client.connect();
      const closed = await carol.waitFor((e) => e.type === 'ws-close', 'the first connection closed');
      assert.deepEqual([closed.code, closed.reason], [4001, 'token expired']);
      await carol.waitFor((e) => e.type === 'connected', 'connected with the fresh token');
      assert.equal(calls, 2, 'one retry with fresh connect data');
      assert.equal(carol.events.filter((e) => e.type === 'disconnected').length, 0, 'never in the terminal disconnected state');
    });

    it('a banned role: disconnected with 4503 (terminal)', async () => {
      const banned = client({ data: { token: suite.stack.token('58', ['role:banned']) } });
      banned.client.connect();
      const ended = await banned.waitFor((e) => e.type === 'disconnected', 'disconnected');
      assert.deepEqual([ended.code, ended.reason], [4503, 'forbidden']);
    });

    it('a revoked user: 4503 on connect; lifted: connects again', async () => {
      await suite.stack.revoke('59');
      // The announcement reaches the service's mirror through Redis pub/sub.
      await pause(1000);
      const revoked = client({ data: { token: suite.stack.token('59') } });
      revoked.client.connect();
      const ended = await revoked.waitFor((e) => e.type === 'disconnected', 'disconnected');
      assert.equal(ended.code, 4503);

      await suite.stack.revoke('59', '--lift');
      await pause(1000);
      const again = client({ data: { token: suite.stack.token('59') } });
      again.client.connect();
      await again.waitFor((e) => e.type === 'connected', 'connected after the lift');
    });
  });
}
