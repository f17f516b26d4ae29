/**
 * Subscribe, publish and RPC through the real Centrifugo over both proxy transports: the codes
 * the SDK's application code sees, publications actually delivered, RPC results from a local
 * upstream, a route timeout answered within Centrifugo's own rpc proxy timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { e2eSuiteOptions, PROXY_TRANSPORTS } from './helpers/centrifugo.js';
import { rejection, subscribe } from './helpers/clients.js';
import { useStack } from './helpers/stack.js';

for (const transport of PROXY_TRANSPORTS) {
  describe(`e2e channels and rpc, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    const suite = useStack({ transport });
    const connected = suite.connected;

    it('members subscribe and a publication reaches the other member with the publisher identity', async () => {
      const reader = await connected('61', ['role:member']);
      const writer = await connected('62', ['role:member'], 'Writer');
      const readerSub = subscribe(reader, 'chat:room-1');
      const writerSub = subscribe(writer, 'chat:room-1');
      await readerSub.waitFor((e) => e.type === 'subscribed', 'reader subscribed');
      await writerSub.waitFor((e) => e.type === 'subscribed', 'writer subscribed');

      await writerSub.sub.publish({ text: 'hello' });
      const got = await readerSub.waitFor((e) => e.type === 'publication', 'publication');
      assert.deepEqual(got.data, { text: 'hello' });
      const info = got.info as { user: string; connInfo?: unknown };
      assert.equal(info.user, '62');
      assert.deepEqual(info.connInfo, { name: 'Writer' }, 'connection info from the claims listed in claims.info');
    });

    it('subscribe denied: the subscription ends with 403 and is not retried', async () => {
      const outsider = await connected('63', []);
      const sub = subscribe(outsider, 'chat:room-1');
      const ended = await sub.waitFor((e) => e.type === 'unsubscribed', 'unsubscribed');
      assert.equal(ended.code, 403);
      assert.equal(sub.events.filter((e) => e.type === 'subscribed').length, 0);
    });

    it("somebody else's personal channel is denied, one's own allowed", async () => {
      const user = await connected('64', []);
      const other = subscribe(user, 'personal:65');
      assert.equal((await other.waitFor((e) => e.type === 'unsubscribed', 'unsubscribed')).code, 403);
    });

    it('publish denied into an archived room: the publish call is refused with 403 and nothing is delivered', async () => {
      const admin = await connected('66', ['role:admin']);
      const reader = await connected('67', ['role:member']);
      const adminSub = subscribe(admin, 'chat:archive:1');
      const readerSub = subscribe(reader, 'chat:archive:1');
      await adminSub.waitFor((e) => e.type === 'subscribed', 'admin subscribed');
      await readerSub.waitFor((e) => e.type === 'subscribed', 'reader subscribed');
      assert.deepEqual(await rejection(adminSub.sub.publish({ text: 'x' })), { code: 403, message: 'permission denied' });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(readerSub.events.filter((e) => e.type === 'publication').length, 0);
    });

    it('rpc through a route: result from the upstream with the caller identity', async () => {
      const member = await connected('68', ['role:member']);
      const answer = await member.client.rpc('tasks.echo', { project: 7 });
      assert.deepEqual(answer.data, { user: '68', params: { project: 7 } });
    });

    it('rpc: 404 for an allowed method without a route, 400 for params failing the schema, 403 when denied', async () => {
      const member = await connected('69', ['role:member']);
      assert.deepEqual(await rejection(member.client.rpc('tasks.unknown', {})), { code: 404, message: 'method not found' });
      const bad = await rejection(member.client.rpc('tasks.create', { title: '' }));
      assert.equal(bad.code, 400);
      assert.match(bad.message, /^bad request: \/title/);
      const outsider = await connected('70', []);
      assert.deepEqual(await rejection(outsider.client.rpc('tasks.echo', {})), { code: 403, message: 'permission denied' });
    });

    it("rpc: a slow upstream answers 504 temporary within Centrifugo's rpc proxy timeout", async () => {
      const member = await connected('71', ['role:member']);
      const started = Date.now();
      const timedOut = await rejection(member.client.rpc('tasks.slow', {}));
      assert.deepEqual(timedOut, { code: 504, message: 'upstream timeout', temporary: true });
      assert.ok(Date.now() - started < 1000, 'answered before Centrifugo gave up on the proxy (1 s)');
    });
  });
}
