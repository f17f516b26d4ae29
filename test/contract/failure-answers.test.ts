/**
 * When no decision can be made (the decider hangs past server.decision_timeout, or something
 * throws: a bug, Redis trouble), refresh and sub_refresh answer a grace extension of
 * auth.failure_extension: Centrifugo ignores `error`/`disconnect` there and would disconnect
 * the user. Other events keep `error 500 temporary`. Every case runs over HTTP and GRPC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RevocationList } from '../../src/auth/revocations.js';
import type { Decider } from '../../src/policy/decider.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const SECRET = 'contract-caller-secret-0123456789';
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';
const GRPC_METHOD = { refresh: 'Refresh', sub_refresh: 'SubRefresh', subscribe: 'Subscribe', publish: 'Publish' } as const;

type Mode = 'ok' | 'hang' | 'throw';
/** A decider that answers allow, never answers, or throws, as the test says. */
function controlledDecider(state: { mode: Mode }): Decider {
  return {
    decide: async () => {
      if (state.mode === 'hang') return new Promise(() => undefined);
      if (state.mode === 'throw') throw new Error('decider exploded');
      return { allowed: true, policyAllowed: true, version: 'test', cached: false, cacheTier: 'none' };
    },
  };
}

const body = (extra: Record<string, unknown>) =>
  JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', meta: { roles: ['role:member'] }, ...extra });

async function ask(h: Harness, event: keyof typeof GRPC_METHOD, request: string, expect: string): Promise<void> {
  const http = await h.http(`/centrifugo/${event}`, request, { 'x-proxy-secret': SECRET });
  assert.equal(http.status, 200);
  assert.equal(http.body, expect, 'HTTP body');
  const grpc = await h.call(GRPC_METHOD[event], jsonToGrpcRequest(request), { 'x-proxy-secret': SECRET });
  assert.deepEqual(grpcToJson(grpc), JSON.parse(expect), 'GRPC answer');
}

async function fallbackCount(h: Harness, event: string, reason: string): Promise<number> {
  const metric = await h.app.metrics.refreshFallbacks.get();
  return metric.values.find((v) => v.labels.event === event && v.labels.reason === reason)?.value ?? 0;
}

const INTERNAL = '{"error":{"code":500,"message":"internal error","temporary":true}}';

describe('contract: failure answers over HTTP and GRPC', () => {
  const state = { mode: 'ok' as Mode, revocationsThrow: false };
  const revocations: RevocationList = {
    isRevoked: async () => {
      if (state.revocationsThrow) throw new Error('redis: connection lost');
      return false;
    },
  };
  let h: Harness;
  let custom: Harness;

  before(async () => {
    const yaml = (extra: string) => testConfigYaml(`caller_auth: { secret: ${SECRET} }\nserver: { decision_timeout: 100ms }\n${extra}`);
    const overrides = { now: () => NOW_MS, decider: controlledDecider(state), revocations };
    h = await startHarness(yaml(''), overrides);
    custom = await startHarness(yaml('auth: { failure_extension: 90s }'), overrides);
  });
  after(async () => {
    await h.stop();
    await custom.stop();
  });

  const refresh = body({});
  const subRefresh = body({ channel: 'chat:room-1' });

  for (const mode of ['hang', 'throw'] as const) {
    const reason = mode === 'hang' ? 'timeout' : 'error';
    it(`refresh: a decider that ${mode}s gets the 60 s grace extension, counted as ${reason}`, async () => {
      state.mode = mode;
      const before = await fallbackCount(h, 'refresh', reason);
      await ask(h, 'refresh', refresh, `{"result":{"expire_at":${NOW + 60}}}`);
      assert.equal(await fallbackCount(h, 'refresh', reason), before + 2, 'one per transport');
    });

    it(`sub_refresh: a decider that ${mode}s gets the 60 s grace extension, counted as ${reason}`, async () => {
      state.mode = mode;
      const before = await fallbackCount(h, 'sub_refresh', reason);
      await ask(h, 'sub_refresh', subRefresh, `{"result":{"expire_at":${NOW + 60}}}`);
      assert.equal(await fallbackCount(h, 'sub_refresh', reason), before + 2, 'one per transport');
    });

    it(`auth.failure_extension: 90s: refresh and sub_refresh with a decider that ${mode}s`, async () => {
      state.mode = mode;
      await ask(custom, 'refresh', refresh, `{"result":{"expire_at":${NOW + 90}}}`);
      await ask(custom, 'sub_refresh', subRefresh, `{"result":{"expire_at":${NOW + 90}}}`);
    });

    it(`subscribe and publish with a decider that ${mode}s stay error 500 temporary`, async () => {
      state.mode = mode;
      await ask(h, 'subscribe', subRefresh, INTERNAL);
      await ask(h, 'publish', body({ channel: 'chat:room-1', data: {} }), INTERNAL);
    });
  }

  it('refresh: Redis trouble in the revocation check gets the grace extension, not expired', async () => {
    state.mode = 'ok';
    state.revocationsThrow = true;
    try {
      await ask(h, 'refresh', refresh, `{"result":{"expire_at":${NOW + 60}}}`);
    } finally {
      state.revocationsThrow = false;
    }
  });

  it('a working decider still decides (the normal extension)', async () => {
    state.mode = 'ok';
    await ask(h, 'refresh', refresh, `{"result":{"expire_at":${NOW + 300}}}`);
    await ask(h, 'sub_refresh', subRefresh, `{"result":{"expire_at":${NOW + 300}}}`);
  });
});
