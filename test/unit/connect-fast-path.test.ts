/**
 * The synchronous connect: a repeated token whose identity, revocation and every policy answer
 * are in memory is answered without a promise, with the slow path's exact answer, and still
 * honours expiry, revocation and a policy reload (each of which sends it to the slow path).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { JwtAuthenticator } from '../../src/auth/jwt-authenticator.js';
import type { RevocationList } from '../../src/auth/revocations.js';
import { TieredDecisionCache } from '../../src/cache/decision-cache.js';
import { configSchema } from '../../src/config/schema.js';
import type { Decision } from '../../src/core/decision.js';
import type { AnyResult } from '../../src/core/messages.js';
import { encodeHttpDecision } from '../../src/transport/http/encode.js';
import { connectHandler } from '../../src/handlers/connect.js';
import type { HandlerContext, HandlerDeps } from '../../src/handlers/handler.js';
import { PolicyDecider } from '../../src/policy/decider.js';
import type { PolicyEngine, PolicyQuery } from '../../src/policy/engine.js';
import type { RateLimits } from '../../src/ratelimit/rate-limits.js';
import { connectWithToken, hs256 } from '../helpers/more-tokens.js';
import { HMAC_SECRET } from '../helpers/tokens.js';

const T0 = 1_800_000_000_000;

function build(options: { limits?: RateLimits } = {}) {
  let clock = T0;
  const revoked = new Set<string>();
  const config = configSchema.parse({
    auth: { jwt: { hmac_secret: HMAC_SECRET, algorithms: ['HS256'] }, claims: { info: ['name'] }, channels: ['personal:{user}', 'news', 'staff'] },
  });
  // v1 lets everyone connect and subscribe except to "staff"; v2 refuses user "56" at connect;
  // v3 is v1 that also refuses "news".
  const engineOf = (version: string): PolicyEngine =>
    ({
      version,
      evaluator: 'test',
      decide: (q: PolicyQuery) => q.object !== 'staff' && !(version === 'v2' && q.action === 'connect' && q.user === '56') && !(version === 'v3' && q.object === 'news'),
    }) as unknown as PolicyEngine;
  let engine = engineOf('v1');
  const logged: string[] = [];
  const cache = new TieredDecisionCache({ maxEntries: 100, ttlMs: 60_000 });
  const decider = new PolicyDecider({ current: () => engine }, cache, {
    mode: 'enforce',
    decisionLog: { record: (q: PolicyQuery, allowed: boolean) => logged.push(`${q.action} ${q.object} ${allowed}`) } as never,
  });
  const revocations: RevocationList = { isRevoked: async (user) => revoked.has(user), isRevokedNow: (user) => revoked.has(user) };
  const now = () => clock;
  const deps: HandlerDeps = {
    config,
    decider,
    authenticator: new JwtAuthenticator(config.auth, now),
    revocations,
    rpc: undefined as never,
    ...(options.limits ? { limits: options.limits } : {}),
    now,
  };
  const handler = connectHandler(deps);
  const ctx: HandlerContext = { log: pino({ level: 'silent' }), signal: new AbortController().signal };
  return {
    connect: (token: string) => handler(connectWithToken(token), ctx),
    codes: config.codes,
    logged,
    revoke: (user: string) => revoked.add(user),
    reload: (version = 'v2') => (engine = engineOf(version)),
    advance: (ms: number) => (clock += ms),
  };
}

const token = hs256({ sub: '56', exp: T0 / 1000 + 60, roles: ['role:member'], name: 'User 56' });
// The HTTP answer's exact bytes, as Centrifugo reads them.
const EXPECTED = '{"result":{"user":"56","expire_at":1800000060,"info":{"name":"User 56"},"channels":["personal:56","news"],"meta":{"roles":["role:member"]}}}';
const wire = (decision: Decision<AnyResult>): string => encodeHttpDecision(decision, false);

describe('connect with a token whose identity and policy answers are in memory', () => {
  it('is answered synchronously with the answer the slow path gave, and logs the same decisions', async () => {
    const { connect, logged } = build();
    const first = connect(token);
    assert.ok(first instanceof Promise, 'a first connect verifies the token asynchronously');
    const slow = await first;
    const slowLog = logged.splice(0);
    const fast = connect(token);
    assert.ok(!(fast instanceof Promise), 'a repeated token is answered without a promise');
    assert.deepEqual(fast, slow);
    assert.equal(wire(fast), EXPECTED);
    assert.deepEqual(logged, slowLog);
    assert.deepEqual(slowLog, ['connect  true', 'subscribe personal:56 true', 'subscribe news true', 'subscribe staff false']);
  });

  it('honours expiry: once exp has passed, the token is verified again and refused as expired', async () => {
    const { connect, codes, advance } = build();
    await connect(token);
    advance(70_000); // past exp and the 5 s clock tolerance
    const answer = connect(token);
    assert.ok(answer instanceof Promise, 'an expired cached identity is not answered from memory');
    assert.deepEqual(await answer, { kind: 'disconnect', ...codes.token_expired });
  });

  it('honours revocation: a revoked user is refused, though every answer is cached', async () => {
    const { connect, codes, revoke } = build();
    await connect(token);
    revoke('56');
    assert.deepEqual(await connect(token), { kind: 'disconnect', ...codes.forbidden });
  });

  it('honours a policy reload: the new version is asked, not the cached answer of the old one', async () => {
    const { connect, codes, reload, logged } = build();
    await connect(token);
    assert.equal(wire(connect(token) as Decision<AnyResult>), EXPECTED);
    reload();
    logged.splice(0);
    const first = connect(token);
    assert.ok(first instanceof Promise, 'nothing of the new version is cached yet');
    assert.deepEqual(await first, { kind: 'disconnect', ...codes.forbidden });
    // Refused at connect: the channels are neither asked nor logged, on either path.
    assert.deepEqual(logged, ['connect  false']);
    const again = connect(token);
    assert.ok(!(again instanceof Promise), 'the refusal is now cached too');
    assert.deepEqual(again, { kind: 'disconnect', ...codes.forbidden });
    assert.deepEqual(logged, ['connect  false', 'connect  false']);
  });

  it('takes the slow path when rate limits are configured (their counters may wait on Redis)', async () => {
    const counted: string[] = [];
    const limits = {
      connectByAddress: async () => (counted.push('address'), true),
      connectByUser: async (user: string) => (counted.push(`user ${user}`), true),
    } as unknown as RateLimits;
    const { connect } = build({ limits });
    await connect(token);
    const again = connect(token);
    assert.ok(again instanceof Promise);
    assert.equal(wire(await again), EXPECTED);
    assert.deepEqual(counted, ['address', 'user 56', 'address', 'user 56']);
  });

  it('hands out one frozen answer per identity and channels, so the transports encode it once; other channels make a new one', async () => {
    const { connect, reload } = build();
    const slow = (await connect(token)) as Decision<AnyResult> & { kind: 'result' };
    const fast = connect(token) as Decision<AnyResult> & { kind: 'result' };
    assert.equal(fast.result, slow.result, 'the same result object');
    assert.ok(Object.isFrozen(fast.result));
    assert.equal(wire(fast), EXPECTED);
    assert.equal(encodeHttpDecision(fast, true), '{"result":{"user":"56","expire_at":1800000060,"b64info":"eyJuYW1lIjoiVXNlciA1NiJ9","channels":["personal:56","news"],"meta":{"roles":["role:member"]}}}');
    reload('v3');
    const fewer = (await connect(token)) as Decision<AnyResult> & { kind: 'result' };
    assert.notEqual(fewer.result, slow.result);
    assert.equal(wire(fewer), '{"result":{"user":"56","expire_at":1800000060,"info":{"name":"User 56"},"channels":["personal:56"],"meta":{"roles":["role:member"]}}}');
    reload('v1');
    assert.equal(wire((await connect(token)) as Decision<AnyResult>), EXPECTED, 'back to the first channels: the answer follows them');
  });
});
