/**
 * The contract table: every case runs over HTTP and over GRPC against one running service and
 * must give the exact bytes Centrifugo would read (HTTP) and the same decision (GRPC).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';
import { HMAC_SECRET, jwks, rs256, rsa, rsaOther, signJwt } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1); // 1893456000
const NOW = NOW_MS / 1000;
const SECRET = 'contract-caller-secret-0123456789';
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';
const fixture = (name: string) => readFileSync(`${FIXTURES}/${name}.json`, 'utf8');

const token = (claims: Record<string, unknown>) =>
  rs256({ sub: '56', iss: 'https://issuer.test', aud: 'centrifugo', iat: NOW - 10, exp: NOW + 3600, ...claims });
const hs256 = (claims: Record<string, unknown>) =>
  signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: '56', iss: 'https://issuer.test', aud: 'centrifugo', exp: NOW + 3600, ...claims }, { alg: 'HS256', secret: HMAC_SECRET });
const connectBody = (data: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', data, ...extra });
const withMeta = (event: Record<string, unknown>, roles: string[]) =>
  JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', ...event, meta: { roles } });

interface Case {
  readonly note: string;
  readonly event: 'connect' | 'refresh' | 'subscribe' | 'publish' | 'sub_refresh' | 'rpc';
  readonly body: string;
  readonly headers?: Record<string, string>;
  /** The exact HTTP response body. */
  readonly expect: string;
}

const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const member = ['role:member'];

const cases: Case[] = [
  { note: 'connect without a token is unauthorized', event: 'connect', body: fixture('connect-basic'), expect: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' },
  { note: 'connect data without a token field is unauthorized', event: 'connect', body: fixture('connect-with-data'), expect: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' },
  {
    note: 'connect with an RS256 token in data.token',
    event: 'connect',
    body: connectBody({ token: token({ roles: member }) }),
    expect: `{"result":{"user":"56","expire_at":${NOW + 3600},"channels":["personal:56","chat:lobby"],"meta":{"roles":["role:member"]}}}`,
  },
  {
    note: 'connect with an HS256 token in the Authorization header, no roles',
    event: 'connect',
    body: fixture('connect-basic'),
    headers: { authorization: `Bearer ${hs256({})}` },
    expect: `{"result":{"user":"56","expire_at":${NOW + 3600},"channels":["personal:56"]}}`,
  },
  {
    note: 'connect with a token in a cookie',
    event: 'connect',
    body: fixture('connect-basic'),
    headers: { cookie: `theme=dark; access_token=${token({ sub: '77' })}` },
    expect: `{"result":{"user":"77","expire_at":${NOW + 3600},"channels":["personal:77"]}}`,
  },
  {
    note: 'connect in binary mode reads the token inside b64data',
    event: 'connect',
    body: JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'protobuf', encoding: 'binary', b64data: Buffer.from(JSON.stringify({ token: token({}) })).toString('base64') }),
    expect: `{"result":{"user":"56","expire_at":${NOW + 3600},"channels":["personal:56"]}}`,
  },
  { note: 'connect with an expired token', event: 'connect', body: connectBody({ token: token({ exp: NOW - 60 }) }), expect: '{"disconnect":{"code":4001,"reason":"token expired"}}' },
  { note: 'connect with a tampered token', event: 'connect', body: connectBody({ token: token({}).replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ sub: '1', exp: NOW + 60 })).toString('base64url')}.`) }), expect: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' },
  { note: 'connect with a wrong issuer', event: 'connect', body: connectBody({ token: token({ iss: 'https://evil.test' }) }), expect: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' },
  ...(
    [
      ['alg none', signJwt({ alg: 'none', typ: 'JWT' }, { sub: '56', iss: 'https://issuer.test', aud: 'centrifugo', exp: NOW + 60 }, { alg: 'none' })],
      ['HS256 signed with the RSA public key (algorithm confusion)', signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: '56', iss: 'https://issuer.test', aud: 'centrifugo', exp: NOW + 60 }, { alg: 'HS256', secret: rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string })],
      ['a wrong audience', token({ aud: 'other' })],
      ['an unknown kid', rs256({ sub: '56', iss: 'https://issuer.test', aud: 'centrifugo', exp: NOW + 60 }, 'rsa-unknown')],
      ["another key's signature", signJwt({ alg: 'RS256', typ: 'JWT', kid: 'rsa-1' }, { sub: '56', iss: 'https://issuer.test', aud: 'centrifugo', exp: NOW + 60 }, { alg: 'RS256', privateKey: rsaOther.privateKey })],
      ['nbf in the future', token({ nbf: NOW + 600 })],
      ['a malformed token', 'a.b.c'],
      ['an oversized token', token({ pad: 'x'.repeat(9000) })],
      ['no sub claim', token({ sub: undefined })],
    ] as const
  ).map(([what, jwt]): Case => ({ note: `connect refuses ${what}`, event: 'connect', body: connectBody({ token: jwt }), expect: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' })),
  { note: 'connect with non-JSON binary data and no token', event: 'connect', body: JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'protobuf', encoding: 'binary', b64data: 'AQL/' }), expect: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' },
  { note: 'connect refused by policy (role:banned)', event: 'connect', body: connectBody({ token: token({ roles: ['role:banned'] }) }), expect: '{"disconnect":{"code":4503,"reason":"forbidden"}}' },
  { note: 'refresh extends while policy allows', event: 'refresh', body: fixture('refresh-with-meta'), expect: `{"result":{"expire_at":${NOW + 300}}}` },
  { note: 'refresh of an anonymous connection expires', event: 'refresh', body: fixture('refresh-basic').replace('"user":"56"', '"user":""'), expect: '{"result":{"expired":true}}' },
  { note: 'refresh of a banned role expires', event: 'refresh', body: withMeta({}, ['role:banned']), expect: '{"result":{"expired":true}}' },
  { note: 'subscribe without a role is denied', event: 'subscribe', body: fixture('subscribe-basic'), expect: DENY },
  { note: 'subscribe as member is allowed', event: 'subscribe', body: fixture('subscribe-with-data').replace('"roles":["editor"]', '"roles":["role:member"]'), expect: '{"result":{}}' },
  { note: 'subscribe in binary mode', event: 'subscribe', body: withMeta({ protocol: 'protobuf', encoding: 'binary', channel: 'chat:index', b64data: 'AQL/' }, member), expect: '{"result":{}}' },
  { note: 'anonymous subscribe to a public news channel', event: 'subscribe', body: fixture('subscribe-anonymous').replace('public:news', 'news:today'), expect: '{"result":{}}' },
  { note: 'anonymous subscribe elsewhere is denied', event: 'subscribe', body: fixture('subscribe-anonymous'), expect: DENY },
  { note: 'own personal channel', event: 'subscribe', body: withMeta({ channel: 'personal:56' }, []), expect: '{"result":{}}' },
  { note: "somebody else's personal channel", event: 'subscribe', body: withMeta({ channel: 'personal:57' }, []), expect: DENY },
  {
    note: 'unknown request fields are ignored',
    event: 'subscribe',
    body: withMeta({ channel: 'chat:index', labels: { a: 'b' }, tags: { x: 'y' }, idempotency_key: 'k' }, member),
    expect: '{"result":{}}',
  },
  { note: 'publish without a role is denied', event: 'publish', body: fixture('publish-basic'), expect: DENY },
  { note: 'publish as member', event: 'publish', body: withMeta({ channel: 'chat:index', data: { text: 'hi' } }, member), expect: '{"result":{}}' },
  { note: 'publish in binary mode with meta of another role', event: 'publish', body: fixture('publish-binary-with-meta'), expect: DENY },
  { note: 'publish into an archived room is denied even to admins', event: 'publish', body: withMeta({ channel: 'chat:archive:1', data: {} }, ['role:admin']), expect: DENY },
  { note: 'sub_refresh extends while allowed', event: 'sub_refresh', body: withMeta({ channel: 'chat:room-42' }, member), expect: `{"result":{"expire_at":${NOW + 300}}}` },
  { note: 'sub_refresh expires when no longer allowed', event: 'sub_refresh', body: fixture('sub-refresh-with-meta'), expect: '{"result":{"expired":true}}' },
  { note: 'rpc denied by policy', event: 'rpc', body: fixture('rpc-basic'), expect: DENY },
  { note: 'rpc allowed without a route', event: 'rpc', body: withMeta({ method: 'tasks.unrouted', data: {} }, member), expect: '{"error":{"code":404,"message":"method not found"}}' },
  { note: 'rpc forwarded to its upstream', event: 'rpc', body: withMeta({ method: 'tasks.get_stats', data: { project: 7 } }, member), expect: '{"result":{"data":{"echo":{"project":7},"user":"56","roles":["role:member"]}}}' },
  {
    note: 'rpc in binary mode answers b64data',
    event: 'rpc',
    body: withMeta({ protocol: 'protobuf', encoding: 'binary', method: 'tasks.binary', b64data: '3q2+7w==' }, member),
    expect: '{"result":{"b64data":"3q2+7w=="}}',
  },
  { note: 'rpc upstream application error passes through', event: 'rpc', body: withMeta({ method: 'tasks.fail', data: {} }, member), expect: '{"error":{"code":1009,"message":"quota exceeded"}}' },
  { note: 'rpc upstream 500 is a temporary 502', event: 'rpc', body: withMeta({ method: 'tasks.crash', data: {} }, member), expect: '{"error":{"code":502,"message":"bad gateway","temporary":true}}' },
  { note: 'rpc upstream down is a temporary 503', event: 'rpc', body: withMeta({ method: 'tasks.down', data: {} }, member), expect: '{"error":{"code":503,"message":"upstream unavailable","temporary":true}}' },
  { note: 'rpc upstream null answer omits data', event: 'rpc', body: withMeta({ method: 'tasks.null', data: {} }, member), expect: '{"result":{}}' },
];

const GRPC_METHOD = { connect: 'Connect', refresh: 'Refresh', subscribe: 'Subscribe', publish: 'Publish', sub_refresh: 'SubRefresh', rpc: 'RPC' };

/** A real upstream: echoes data and identity, or fails on purpose. */
function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/binary') return res.end(body);
      if (req.url === '/fail') return res.end('{"error":{"code":1009,"message":"quota exceeded"}}');
      if (req.url === '/crash') return res.writeHead(500).end('boom');
      if (req.url === '/null') return res.end('null');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ echo: JSON.parse(body.toString()), user: req.headers['x-centrifugo-user'], roles: JSON.parse(String(req.headers['x-centrifugo-roles'])) }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('contract: every event over HTTP and GRPC', () => {
  let h: Harness;
  let upstream: Server;

  before(async () => {
    upstream = await startUpstream();
    const up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const jwksFile = writeConfig('');
    writeFileSync(jwksFile, JSON.stringify(jwks()));
    h = await startHarness(
      testConfigYaml(`
caller_auth: { secret: ${SECRET} }
auth:
  jwt:
    algorithms: [RS256, ES256, EdDSA, HS256]
    jwks_file: ${jwksFile}
    hmac_secret: ${HMAC_SECRET}
    issuer: https://issuer.test
    audience: centrifugo
  channels: ["personal:{user}", "chat:lobby"]
rpc:
  routes:
    - { method: tasks.get_stats, upstream: "${up}/echo" }
    - { method: tasks.binary, upstream: "${up}/binary" }
    - { method: tasks.fail, upstream: "${up}/fail" }
    - { method: tasks.crash, upstream: "${up}/crash" }
    - { method: tasks.null, upstream: "${up}/null" }
    - { method: tasks.down, upstream: "http://127.0.0.1:1/x" }
`),
      { now: () => NOW_MS },
    );
  });

  after(async () => {
    await h.stop();
    upstream.close();
  });

  for (const c of cases) {
    it(`${c.event}: ${c.note}`, async () => {
      const http = await h.http(`/centrifugo/${c.event}`, c.body, { 'x-proxy-secret': SECRET, ...c.headers });
      assert.equal(http.status, 200);
      assert.equal(http.body, c.expect, 'HTTP body');
      const grpc = await h.call(GRPC_METHOD[c.event], jsonToGrpcRequest(c.body), { 'x-proxy-secret': SECRET, ...c.headers });
      assert.deepEqual(grpcToJson(grpc), JSON.parse(c.expect), 'GRPC answer');
    });
  }
});
