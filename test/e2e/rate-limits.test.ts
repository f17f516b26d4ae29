/**
 * rate_limits through the real Centrifugo over both proxy transports, as the SDK's application
 * code sees them: a publish and an rpc over the limit are refused with 429 `too many requests`,
 * temporary; a connect over its address limit gets the same temporary error and the SDK keeps
 * retrying instead of giving up. The address comes from X-Real-Ip, which the test sets on the
 * WebSocket upgrade (as a load balancer would) and Centrifugo forwards because the connect
 * proxy's http_headers lists it, exactly what docs/rate-limits.md asks operators to configure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { e2eSuiteOptions, PROXY_TRANSPORTS } from './helpers/centrifugo.js';
import { pause, rejection, subscribe } from './helpers/clients.js';
import { useStack } from './helpers/stack.js';

const TOO_MANY = { code: 429, message: 'too many requests', temporary: true };

for (const transport of PROXY_TRANSPORTS) {
  describe(`e2e rate limits, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    const suite = useStack({
      transport,
      serviceYaml: `
rate_limits:
  address_header: x-real-ip
  connect: [ { by: address, limit: 1, window: 1m } ]
  publish: [ { channel: "chat:*", limit: 2, window: 1m } ]
  rpc: [ { method: "tasks.*", limit: 2, window: 1m } ]`,
      centrifugoEnv: { CENTRIFUGO_CLIENT_PROXY_CONNECT_HTTP_HEADERS: 'Cookie traceparent X-Real-Ip' },
    });

    it('publish over the limit: the SDK call is refused with 429 temporary and nothing is delivered', async () => {
      const writer = await suite.connected('301', ['role:member']);
      const sub = subscribe(writer, 'chat:limits');
      await sub.waitFor((e) => e.type === 'subscribed', 'subscribed');
      await sub.sub.publish({ n: 1 });
      await sub.sub.publish({ n: 2 });
      assert.deepEqual(await rejection(sub.sub.publish({ n: 3 })), TOO_MANY);
      await pause(200);
      assert.deepEqual(
        sub.events.filter((e) => e.type === 'publication').map((e) => e.data),
        [{ n: 1 }, { n: 2 }],
      );
    });

    it('rpc over the limit: refused with 429 temporary', async () => {
      const member = await suite.connected('302', ['role:member']);
      await member.client.rpc('tasks.echo', {});
      await member.client.rpc('tasks.echo', {});
      assert.deepEqual(await rejection(member.client.rpc('tasks.echo', {})), TOO_MANY);
    });

    it('connect over the address limit: error 429 temporary, and the SDK keeps retrying rather than giving up', async () => {
      const token = (user: string) => suite.stack.token(user, ['role:member']);
      const first = suite.client({ data: { token: token('303') }, upgradeHeaders: { 'X-Real-Ip': '203.0.113.30' } });
      first.client.connect();
      await first.waitFor((e) => e.type === 'connected', 'first connected');

      const second = suite.client({ data: { token: token('304') }, upgradeHeaders: { 'X-Real-Ip': '203.0.113.30' } });
      second.client.connect();
      const refused = await second.waitFor((e) => e.type === 'error' && e.code === 429, 'connect refused with 429');
      assert.deepEqual(refused, { type: 'error', code: 429, reason: 'too many requests', temporary: true });
      // Still retrying (backoff 100–500 ms here): more attempts, each refused, never disconnected.
      await second.waitFor((e) => e.type === 'error' && e.code === 429 && second.events.filter((x) => x.code === 429).length >= 2, 'a retry');
      assert.equal(second.client.state, 'connecting');
      assert.equal(second.events.filter((e) => e.type === 'disconnected').length, 0);

      // An X-Real-Ip the client sets itself (an emulated header in the connect frame) never reaches
      // us: Centrifugo forwards emulated headers only when listed in emulated_headers. This client
      // names the full address but is not counted by it (no address at all: not limited by one).
      const spoofing = suite.client({ data: { token: token('306') }, headers: { 'X-Real-Ip': '203.0.113.30' } });
      spoofing.client.connect();
      await spoofing.waitFor((e) => e.type === 'connected', 'an emulated address is not the address');

      const elsewhere = suite.client({ data: { token: token('305') }, upgradeHeaders: { 'X-Real-Ip': '203.0.113.31' } });
      elsewhere.client.connect();
      await elsewhere.waitFor((e) => e.type === 'connected', 'another address connects');
    });
  });
}
