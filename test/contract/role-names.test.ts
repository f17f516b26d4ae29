/**
 * The contract: "A user ID never acts as a role: a token whose `sub` equals a role's name
 * (`role:admin`) gets none of that role's rights." Tokens with `sub` role:admin, role:member,
 * authenticated and anonymous and no roles get only what a plain user gets, over HTTP and GRPC.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';
import { jwks, rs256 } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const SECRET = 'contract-caller-secret-0123456789';
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const GRPC_METHOD = { connect: 'Connect', subscribe: 'Subscribe', publish: 'Publish', sub_refresh: 'SubRefresh', rpc: 'RPC' } as const;

const token = (sub: string) => rs256({ sub, exp: NOW + 3600 });
const connectBody = (sub: string) => JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: token(sub) } });
/** A later event of a connection whose connect answer had no roles (so no meta). */
const event = (user: string, extra: Record<string, unknown>) => JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', user, ...extra });

interface Case {
  readonly note: string;
  readonly event: keyof typeof GRPC_METHOD;
  readonly body: string;
  readonly expect: string;
}

const connected = (user: string) => `{"result":{"user":${JSON.stringify(user)},"expire_at":${NOW + 3600},"channels":["personal:${user}"]}}`;

const cases: Case[] = [
  // Server-side channels show it first: chat:lobby needs a chat role; personal:{user} any user.
  { note: 'sub role:admin connects as a plain user (no chat:lobby)', event: 'connect', body: connectBody('role:admin'), expect: connected('role:admin') },
  { note: 'sub role:member connects as a plain user', event: 'connect', body: connectBody('role:member'), expect: connected('role:member') },
  { note: 'sub authenticated connects as a plain user', event: 'connect', body: connectBody('authenticated'), expect: connected('authenticated') },
  { note: 'sub anonymous connects as a plain user', event: 'connect', body: connectBody('anonymous'), expect: connected('anonymous') },
  { note: 'a plain user, for comparison', event: 'connect', body: connectBody('56'), expect: connected('56') },
  { note: 'user role:admin may not subscribe where admins may', event: 'subscribe', body: event('role:admin', { channel: 'chat:room-1' }), expect: DENY },
  { note: 'user role:admin may not publish where admins may', event: 'publish', body: event('role:admin', { channel: 'chat:room-1', data: {} }), expect: DENY },
  { note: 'user role:admin may not call admin RPC', event: 'rpc', body: event('role:admin', { method: 'admin.purge', data: {} }), expect: DENY },
  { note: 'user role:admin subscription to chat is not extended', event: 'sub_refresh', body: event('role:admin', { channel: 'chat:room-1' }), expect: '{"result":{"expired":true}}' },
  { note: 'user role:member may not subscribe to chat', event: 'subscribe', body: event('role:member', { channel: 'chat:room-1' }), expect: DENY },
  { note: 'user role:admin still reads its own personal channel, like any user', event: 'subscribe', body: event('role:admin', { channel: 'personal:role:admin' }), expect: '{"result":{}}' },
  { note: 'user authenticated reads news, like any user', event: 'subscribe', body: event('authenticated', { channel: 'news:today' }), expect: '{"result":{}}' },
  { note: 'user 666 is still banned from publishing by its user-ID deny line', event: 'publish', body: event('666', { channel: 'chat:room-1', data: {}, meta: { roles: ['role:admin'] } }), expect: DENY },
  { note: 'the admin role from the token still works', event: 'publish', body: event('role:admin', { channel: 'chat:room-1', data: {}, meta: { roles: ['role:admin'] } }), expect: '{"result":{}}' },
];

describe('contract: user IDs never act as roles, over HTTP and GRPC', () => {
  let h: Harness;

  before(async () => {
    const jwksFile = writeConfig('');
    writeFileSync(jwksFile, JSON.stringify(jwks()));
    h = await startHarness(
      testConfigYaml(`caller_auth: { secret: ${SECRET} }\nauth:\n  jwt: { algorithms: [RS256], jwks_file: ${jwksFile} }\n  channels: ["personal:{user}", "chat:lobby"]`),
      { now: () => NOW_MS },
    );
  });
  after(() => h.stop());

  for (const c of cases) {
    it(`${c.event}: ${c.note}`, async () => {
      const http = await h.http(`/centrifugo/${c.event}`, c.body, { 'x-proxy-secret': SECRET });
      assert.equal(http.status, 200);
      assert.equal(http.body, c.expect, 'HTTP body');
      const grpc = await h.call(GRPC_METHOD[c.event], jsonToGrpcRequest(c.body), { 'x-proxy-secret': SECRET });
      assert.deepEqual(grpcToJson(grpc), JSON.parse(c.expect), 'GRPC answer');
    });
  }
});
