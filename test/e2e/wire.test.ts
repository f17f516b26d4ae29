/**
 * Wire details through the real Centrifugo over both proxy transports: binary mode (proxies
 * with binary_encoding and the SDK's protobuf client), a wrong caller secret, and the
 * traceparent of the client's upgrade request reaching an RPC upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { e2eSuiteOptions, PROXY_TRANSPORTS } from './helpers/centrifugo.js';
import { makeClient, pause, subscribe, type RecordedClient } from './helpers/clients.js';
import { startStack, type Stack } from './helpers/stack.js';

const bytes = (text: string) => new TextEncoder().encode(text);

for (const transport of PROXY_TRANSPORTS) {
  describe(`e2e binary mode, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    const clients: RecordedClient[] = [];
    before(async () => {
      stack = await startStack({ transport, binaryEncoding: true });
    });
    after(async () => {
      for (const c of clients) c.close();
      await stack?.stop();
    });

    it('protobuf clients: token inside binary connect data, binary publications delivered, binary rpc', async () => {
      const connect = async (user: string, roles: string[]) => {
        const made = makeClient(stack.centrifugo.wsUrl.replace('/websocket', '/websocket?cf_protocol=protobuf'), {
          protobuf: true,
          data: bytes(JSON.stringify({ token: stack.token(user, roles) })),
        });
        clients.push(made);
        made.client.connect();
        await made.waitFor((e) => e.type === 'connected', `user ${user} connected`);
        return made;
      };
      const reader = await connect('91', ['role:member']);
      const writer = await connect('92', ['role:member']);
      const readerSub = subscribe(reader, 'chat:binary');
      const writerSub = subscribe(writer, 'chat:binary');
      await readerSub.waitFor((e) => e.type === 'subscribed', 'reader subscribed');
      await writerSub.waitFor((e) => e.type === 'subscribed', 'writer subscribed');
      const payload = new Uint8Array([0, 1, 2, 250, 255]);
      await writerSub.sub.publish(payload);
      const got = await readerSub.waitFor((e) => e.type === 'publication', 'binary publication');
      assert.deepEqual([...(got.data as Uint8Array)], [...payload]);

      const answer = await writer.client.rpc('tasks.binary', new Uint8Array([1, 2, 3, 0xde]));
      assert.deepEqual([...(answer.data as Uint8Array)], [0xde, 3, 2, 1], 'the upstream got the raw bytes and its raw answer came back');

      const denied = subscribe(await connect('93', []), 'chat:binary');
      assert.equal((await denied.waitFor((e) => e.type === 'unsubscribed', 'denied')).code, 403);
    });
  });

  describe(`e2e wrong caller secret, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    let user: RecordedClient | undefined;
    before(async () => {
      stack = await startStack({ transport, centrifugoSecret: 'not-the-secret-the-service-expects' });
    });
    after(async () => {
      user?.close();
      await stack?.stop();
    });

    it('no decision is made; the client never connects and keeps retrying (Centrifugo reads our refusal as a proxy failure)', async () => {
      user = makeClient(stack.centrifugo.wsUrl, { data: { token: stack.token('94', ['role:member']) } });
      user.client.connect();
      await user.waitFor((e) => e.type === 'error', 'a connect error');
      await pause(800);
      assert.equal(user.events.filter((e) => e.type === 'connected').length, 0);
      assert.notEqual(user.client.state, 'disconnected', 'not terminal: the SDK is still trying');
      const errors = user.events.filter((e) => e.type === 'error');
      assert.ok(errors.length >= 2, `retried: ${JSON.stringify(user.events)}`);
      assert.deepEqual({ code: errors[0]?.code, reason: errors[0]?.reason, temporary: errors[0]?.temporary }, { code: 100, reason: 'internal server error', temporary: true });
      const decisions = (await stack.app.metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('cpp_decisions_total{'));
      assert.deepEqual(decisions, [], 'the service decided nothing for an unauthenticated caller');
    });
  });

  describe(`e2e traceparent, Centrifugo proxying over ${transport}`, e2eSuiteOptions(), () => {
    let stack: Stack;
    let user: RecordedClient | undefined;
    before(async () => {
      stack = await startStack({ transport });
    });
    after(async () => {
      user?.close();
      await stack?.stop();
    });

    it("the upgrade request's traceparent (listed in http_headers) reaches the RPC upstream", async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      user = makeClient(stack.centrifugo.wsUrl, {
        data: { token: stack.token('95', ['role:member']) },
        upgradeHeaders: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      user.client.connect();
      await user.waitFor((e) => e.type === 'connected', 'connected');
      await user.client.rpc('tasks.echo', { n: 1 });
      const call = stack.upstream.calls.at(-1);
      assert.equal(call?.path, '/echo');
      assert.equal(String(call?.headers.traceparent).split('-')[1], traceId);
    });
  });

  if (transport === 'grpc') {
    describe('e2e GRPC connections aged out (grpc.max_connection_age), Centrifugo proxying over grpc', e2eSuiteOptions(), () => {
      let stack: Stack;
      let user: RecordedClient | undefined;
      before(async () => {
        stack = await startStack({ transport, grpcYaml: 'max_connection_age: 400ms, max_connection_age_grace: 2s' });
      });
      after(async () => {
        user?.close();
        await stack?.stop();
      });

      it("Centrifugo reconnects after each GOAWAY and every call keeps being answered", async () => {
        user = makeClient(stack.centrifugo.wsUrl, { data: { token: stack.token('96', ['role:member']) } });
        user.client.connect();
        await user.waitFor((e) => e.type === 'connected', 'connected');
        for (let i = 0; i < 8; i++) {
          const answer = await user.client.rpc('tasks.echo', { i });
          assert.deepEqual(answer.data, { user: '96', params: { i } });
          await pause(250);
        }
        const sub = subscribe(user, 'chat:aged');
        await sub.waitFor((e) => e.type === 'subscribed', 'subscribed after several reconnects');
        assert.equal(user.events.filter((e) => e.type === 'error').length, 0, `no errors: ${JSON.stringify(user.events)}`);
      });
    });
  }
}
