/**
 * Identity headers to RPC upstreams for values that are not printable ASCII (found by the GRPC
 * fuzz test): a method name with a newline, a user ID in Polish with an emoji, meta with
 * non-Latin roles. The call reaches the upstream, which decodes every value back exactly, and
 * such calls never open the route's breaker. Over HTTP and GRPC.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/echo-upstream.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

const USER = 'Łukasz 😀 100%';
const METHOD = 'tasks.x\ny';
const META = { roles: ['role:member', 'rôle:Ärzte', 'роль'], note: 'tab\there' };

describe('rpc: identity headers for any characters', () => {
  let h: Harness;
  let upstream: RecordingUpstream;
  before(async () => {
    upstream = await startRecordingUpstream();
    h = await startHarness(testConfigYaml(`rpc: { watch: false, breaker: { failures: 2, cooldown: 60s }, routes: [ { method: "tasks.*", upstream: "${upstream.url}" } ] }`));
  });
  after(async () => {
    await h?.stop();
    await upstream?.close();
  });

  const body = JSON.stringify({ client: 'c1', user: USER, method: METHOD, data: {}, meta: META });
  const OK = { result: { data: { ok: true } } };
  const transports = {
    http: async () => JSON.parse((await h.http('/centrifugo/rpc', body)).body) as unknown,
    grpc: async () => grpcToJson(await h.call('RPC', jsonToGrpcRequest(body))),
  };

  for (const [name, send] of Object.entries(transports)) {
    it(`${name}: reaches the upstream with every value decodable, and never opens the breaker`, async () => {
      upstream.seen.length = 0;
      // More calls than the breaker's threshold: had they failed, the breaker would be open.
      for (let i = 0; i < 4; i++) assert.deepEqual(await send(), OK);
      assert.equal(upstream.seen.length, 4);
      const headers = upstream.seen[0] as IncomingHttpHeaders;
      assert.equal(decodeURIComponent(headers['x-centrifugo-user'] as string), USER);
      assert.equal(decodeURIComponent(headers['x-centrifugo-method'] as string), METHOD);
      assert.equal(headers['x-centrifugo-client'], 'c1');
      assert.deepEqual(JSON.parse(headers['x-centrifugo-meta'] as string), META);
      // Printable ASCII stays as it was (the roles list here is pure ASCII but for the JSON escapes).
      assert.deepEqual(JSON.parse(headers['x-centrifugo-roles'] as string), ['role:member', 'rôle:Ärzte', 'роль']);
      assert.match(headers['x-centrifugo-roles'] as string, /^[\x20-\x7e]+$/);
    });
  }
});
