/**
 * grpc.max_connection_age: the server sends GOAWAY to a connection once it is that old (so
 * Centrifugo's long-lived proxy connections spread over new replicas), and calls keep
 * succeeding across the reconnect. 0 turns it off.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, describe, it } from 'node:test';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

const subscribe = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:a', meta: { roles: ['role:member'] } });

/** Milliseconds until the server sends GOAWAY on a fresh HTTP/2 connection, or undefined within `waitMs`. */
function goawayAfter(port: number, waitMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = Date.now();
    const session = connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      resolve(undefined);
    }, waitMs);
    session.on('error', () => {});
    session.once('goaway', () => {
      clearTimeout(timer);
      session.destroy();
      resolve(Date.now() - started);
    });
  });
}

describe('grpc.max_connection_age', () => {
  const started: Harness[] = [];
  after(async () => {
    for (const h of started) await h.stop();
  });

  it('an aged connection gets GOAWAY; calls before and after it succeed', async () => {
    const h = await startHarness(testConfigYaml('', '').replace('grpc: { port: 0, host: 127.0.0.1 }', 'grpc: { port: 0, host: 127.0.0.1, max_connection_age: 300ms, max_connection_age_grace: 1s }'));
    started.push(h);
    const ms = await goawayAfter(h.grpcPort, 3000);
    assert.ok(ms !== undefined, 'GOAWAY within 3 s of a 300 ms max age');
    const first = await h.call('Subscribe', jsonToGrpcRequest(subscribe));
    await new Promise((r) => setTimeout(r, 800));
    const second = await h.call('Subscribe', jsonToGrpcRequest(subscribe));
    assert.deepEqual([first, second], [{ result: {} }, { result: {} }]);
  });

  it('0 keeps connections open', async () => {
    const h = await startHarness(testConfigYaml('', '').replace('grpc: { port: 0, host: 127.0.0.1 }', 'grpc: { port: 0, host: 127.0.0.1, max_connection_age: 0s }'));
    started.push(h);
    assert.equal(await goawayAfter(h.grpcPort, 1500), undefined);
  });
});
