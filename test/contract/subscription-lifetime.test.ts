/**
 * auth.subscription_lifetime: an allowed subscribe answers expire_at = now + lifetime, so
 * Centrifugo calls sub_refresh, which asks the policy and the revocation list again. Off (0),
 * subscribe answers `{"result":{}}` and subscriptions never expire. Over HTTP and GRPC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RevocationList } from '../../src/auth/revocations.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const SECRET = 'contract-caller-secret-0123456789';
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';
const GRPC_METHOD = { subscribe: 'Subscribe', sub_refresh: 'SubRefresh' } as const;
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const EXPIRED = '{"result":{"expired":true}}';

const body = (user: string, channel: string, roles: string[]) =>
  JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, meta: { roles } });

interface Case {
  readonly note: string;
  readonly harness: 'off' | 'ten_minutes';
  readonly event: keyof typeof GRPC_METHOD;
  readonly body: string;
  readonly expect: string;
}

const member = ['role:member'];
const cases: Case[] = [
  { note: 'off: an allowed subscribe has no expire_at', harness: 'off', event: 'subscribe', body: body('56', 'chat:room-1', member), expect: '{"result":{}}' },
  { note: 'off: sub_refresh (subscription tokens) extends by refresh_interval', harness: 'off', event: 'sub_refresh', body: body('56', 'chat:room-1', member), expect: `{"result":{"expire_at":${NOW + 300}}}` },
  { note: 'off: sub_refresh of a revoked user expires', harness: 'off', event: 'sub_refresh', body: body('revoked-1', 'chat:room-1', member), expect: EXPIRED },
  { note: '10m: an allowed subscribe expires in 10 minutes', harness: 'ten_minutes', event: 'subscribe', body: body('56', 'chat:room-1', member), expect: `{"result":{"expire_at":${NOW + 600}}}` },
  { note: '10m: own personal channel expires in 10 minutes', harness: 'ten_minutes', event: 'subscribe', body: body('56', 'personal:56', []), expect: `{"result":{"expire_at":${NOW + 600}}}` },
  { note: '10m: anonymous news expires in 10 minutes', harness: 'ten_minutes', event: 'subscribe', body: body('', 'news:today', []), expect: `{"result":{"expire_at":${NOW + 600}}}` },
  { note: '10m: a denied subscribe stays 403', harness: 'ten_minutes', event: 'subscribe', body: body('56', 'chat:room-1', []), expect: DENY },
  { note: '10m: sub_refresh while allowed extends by the lifetime', harness: 'ten_minutes', event: 'sub_refresh', body: body('56', 'chat:room-1', member), expect: `{"result":{"expire_at":${NOW + 600}}}` },
  { note: '10m: anonymous sub_refresh of news extends', harness: 'ten_minutes', event: 'sub_refresh', body: body('', 'news:today', []), expect: `{"result":{"expire_at":${NOW + 600}}}` },
  { note: '10m: sub_refresh once the policy no longer allows expires', harness: 'ten_minutes', event: 'sub_refresh', body: body('56', 'chat:room-1', []), expect: EXPIRED },
  { note: '10m: sub_refresh of a revoked user expires although the policy allows', harness: 'ten_minutes', event: 'sub_refresh', body: body('revoked-1', 'chat:room-1', member), expect: EXPIRED },
];

describe('contract: subscription lifetime over HTTP and GRPC', () => {
  const harnesses = new Map<Case['harness'], Harness>();
  const revocations: RevocationList = { isRevoked: async (user) => user === 'revoked-1' };

  before(async () => {
    const yaml = (extra: string) => testConfigYaml(`caller_auth: { secret: ${SECRET} }\n${extra}`);
    harnesses.set('off', await startHarness(yaml(''), { now: () => NOW_MS, revocations }));
    harnesses.set('ten_minutes', await startHarness(yaml('auth: { subscription_lifetime: 10m }'), { now: () => NOW_MS, revocations }));
  });
  after(async () => {
    for (const h of harnesses.values()) await h.stop();
  });

  for (const c of cases) {
    it(`${c.event}: ${c.note}`, async () => {
      const h = harnesses.get(c.harness) as Harness;
      const http = await h.http(`/centrifugo/${c.event}`, c.body, { 'x-proxy-secret': SECRET });
      assert.equal(http.status, 200);
      assert.equal(http.body, c.expect, 'HTTP body');
      const grpc = await h.call(GRPC_METHOD[c.event], jsonToGrpcRequest(c.body), { 'x-proxy-secret': SECRET });
      assert.deepEqual(grpcToJson(grpc), JSON.parse(c.expect), 'GRPC answer');
    });
  }
});
