/**
 * A deterministic mix of proxy requests for the fault suite and the soak, each with the exact
 * answer the shipped policies give: request i always asks the same question, so a wrong answer
 * under a fault is seen, not averaged away. User IDs and channels are distinct per request
 * (`u<i>`, `chat:r<i>`) so a long run goes far beyond every cache bound.
 *
 * The expected answers are written from the policy text (policies/policy.csv), not computed by
 * the service's engine, so the service is never checked against itself.
 */
import { HMAC_SECRET, signJwt } from './tokens.js';

export type TrafficEvent = 'connect' | 'subscribe' | 'publish' | 'rpc';

export interface TrafficCase {
  readonly event: TrafficEvent;
  /** The HTTP JSON body (the GRPC request is made from it). */
  readonly body: string;
  /** The exact HTTP answer body. */
  readonly expected: string;
  readonly allow: boolean;
}

/** The service config keys the mix needs: HS256 tokens and an echo upstream for `tasks.*`. */
export const trafficConfigYaml = (echoUpstream: string): string => `
auth: { jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" } }
rpc:
  watch: false
  routes:
    - { method: "tasks.*", upstream: "${echoUpstream}", timeout: 5s, max_concurrency: 10000 }
`;

const ALLOW = '{"result":{}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const base = { client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json' };

const hs256 = (claims: Record<string, unknown>) => signJwt({ alg: 'HS256', typ: 'JWT' }, claims, { alg: 'HS256', secret: HMAC_SECRET });

/** Tokens live an hour from the start of the run (answers echo `exp` as expire_at). */
const EXP = Math.floor(Date.now() / 1000) + 3600;

type Shape = (i: number, user: string) => TrafficCase;

const channelCase = (event: 'subscribe' | 'publish', roles: string[], channel: string, allow: boolean): Shape => (i, user) => ({
  event,
  body: JSON.stringify({ ...base, user, channel: channel.replace('<i>', String(i)).replace('<user>', user), ...(event === 'publish' ? { data: { n: i } } : {}), meta: { roles } }),
  expected: allow ? ALLOW : DENY,
  allow,
});

/** The shapes, one per request in turn: allows and denies of every event. */
const SHAPES: readonly Shape[] = [
  (i, user) => ({
    event: 'connect',
    body: JSON.stringify({ ...base, data: { token: hs256({ sub: user, exp: EXP, roles: ['role:member'] }) } }),
    expected: JSON.stringify({ result: { user, expire_at: EXP, meta: { roles: ['role:member'] } } }),
    allow: true,
  }),
  // p, role:banned, *, connect, deny
  (_i, user) => ({
    event: 'connect',
    body: JSON.stringify({ ...base, data: { token: hs256({ sub: user, exp: EXP, roles: ['role:banned'] }) } }),
    expected: '{"disconnect":{"code":4503,"reason":"forbidden"}}',
    allow: false,
  }),
  // A token signed with another secret.
  (_i, user) => ({
    event: 'connect',
    body: JSON.stringify({ ...base, data: { token: signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: user, exp: EXP }, { alg: 'HS256', secret: `${HMAC_SECRET}-not` }) } }),
    expected: '{"disconnect":{"code":4501,"reason":"unauthorized"}}',
    allow: false,
  }),
  channelCase('subscribe', ['role:member'], 'chat:r<i>', true),
  channelCase('subscribe', ['role:guest'], 'chat:r<i>', false),
  channelCase('subscribe', [], 'personal:<user>', true),
  channelCase('subscribe', [], 'personal:o<i>', false),
  channelCase('subscribe', [], 'news:n<i>', true),
  channelCase('subscribe', ['role:admin'], 'secret:s<i>', true),
  channelCase('subscribe', ['role:member'], 'secret:s<i>', false),
  channelCase('publish', ['role:member'], 'chat:r<i>', true),
  channelCase('publish', ['role:admin'], 'chat:archive:a<i>', false),
  (i, user) => ({
    event: 'rpc',
    body: JSON.stringify({ ...base, user, method: `tasks.m${i % 50}`, data: { n: i }, meta: { roles: ['role:member'] } }),
    expected: JSON.stringify({ result: { data: { n: i } } }),
    allow: true,
  }),
  (i, user) => ({
    event: 'rpc',
    body: JSON.stringify({ ...base, user, method: `tasks.m${i % 50}`, data: { n: i }, meta: { roles: ['role:guest'] } }),
    expected: DENY,
    allow: false,
  }),
];

/** Request i of the mix; `users` bounds the distinct user IDs (default: one per request). */
export function trafficCase(i: number, users = Number.POSITIVE_INFINITY): TrafficCase {
  const shape = SHAPES[i % SHAPES.length] as Shape;
  return shape(i, `u${Number.isFinite(users) ? i % users : i}`);
}
