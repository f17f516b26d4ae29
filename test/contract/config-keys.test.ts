/**
 * Config keys that change what goes over the wire, each checked against a running service:
 * grpc.tls (TLS and mutual TLS), http.base_path, policy.decision_log.allow_sample, the order of
 * auth.token_sources, codes.* overrides in both transports' answers, grpc.max_message_size.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, Metadata, status, type ChannelCredentials, type Client, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_FILE } from '../../src/transport/grpc/proto.js';
import { startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';
import { jwks, rs256 } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const ISS = 'https://issuer.test';
const AUD = 'centrifugo';
const subscribe = (channel: string, roles: string[] = []) =>
  JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel, meta: { roles } });
const grpcSubscribe = (channel: string, roles: string[] = []) => ({ client: 'c1', user: '56', channel, meta: Buffer.from(JSON.stringify({ roles })) });
const token = (sub: string) => rs256({ sub, iss: ISS, aud: AUD, iat: NOW - 10, exp: NOW + 3600 });

function jwtConfig(tokenSources: string): string {
  const jwksFile = writeConfig(JSON.stringify(jwks()));
  return testConfigYaml(`
auth:
  token_sources: ${tokenSources}
  jwt: { issuer: ${ISS}, audience: ${AUD}, algorithms: [RS256], jwks_file: ${jwksFile} }`);
}

function proxyClientType(): ServiceClientConstructor {
  const definition = loadSync(PROTO_FILE, { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true, bytes: Buffer });
  const root = loadPackageDefinition(definition) as GrpcObject;
  return (((root.centrifugal as GrpcObject).centrifugo as GrpcObject).proxy as GrpcObject).CentrifugoProxy as ServiceClientConstructor;
}

type Unary = (request: unknown, metadata: Metadata, options: object, cb: (err: ServiceError | null, value: Record<string, unknown>) => void) => void;

function unary(client: Client, method: string, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const call = (client as unknown as Record<string, Unary>)[method] as Unary;
    call.call(client, request, new Metadata(), { deadline: Date.now() + 5000 }, (err, value) => (err ? reject(err) : resolve(value)));
  });
}

const metric = async (h: Harness, name: string): Promise<string[]> => {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name));
};
const counterValue = (lines: string[], label: string): number => {
  const line = lines.find((l) => l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('config keys on the wire', () => {
  const started: Harness[] = [];
  const start = async (yaml: string) => {
    const h = await startHarness(yaml, { now: () => NOW_MS });
    started.push(h);
    return h;
  };
  after(async () => {
    for (const h of started) await h.stop();
  });

  describe('grpc.tls', () => {
    let dir: string;
    const file = (name: string) => join(dir, name);
    const pem = (name: string) => readFileSync(file(name));

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cpp-tls-'));
      const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test ca');
      const issue = (name: string, cn: string, ext: string) => {
        openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
        writeFileSync(file(`${name}.ext`), ext);
        openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
      };
      issue('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      issue('client', 'centrifugo', 'extendedKeyUsage=clientAuth\n');
      // A client certificate from a CA the server does not trust.
      openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '2', '-subj', '/CN=rogue');
    });

    const tlsYaml = (clientCa: boolean) =>
      testConfigYaml().replace(
        'grpc: { port: 0, host: 127.0.0.1 }',
        `grpc: { port: 0, host: 127.0.0.1, tls: { cert: ${file('server.crt')}, key: ${file('server.key')}${clientCa ? `, client_ca: ${file('ca.crt')}` : ''} } }`,
      );
    const clientFor = (h: Harness, creds: ChannelCredentials) => {
      const Ctor = proxyClientType();
      return new Ctor(`localhost:${h.grpcPort}`, creds);
    };
    const ask = async (client: Client) => {
      try {
        return await unary(client, 'Subscribe', grpcSubscribe('chat:a', ['role:member']));
      } finally {
        client.close();
      }
    };

    it('TLS: a client trusting the CA gets answers; a plaintext client does not', async () => {
      const h = await start(tlsYaml(false));
      const answer = await ask(clientFor(h, credentials.createSsl(pem('ca.crt'))));
      assert.deepEqual(answer, { result: {} });
      await assert.rejects(ask(clientFor(h, credentials.createInsecure())), (err: ServiceError) => err.code === status.UNAVAILABLE);
    });

    it('mutual TLS: a client certificate from the CA is required', async () => {
      const h = await start(tlsYaml(true));
      const withCert = await ask(clientFor(h, credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt'))));
      assert.deepEqual(withCert, { result: {} });
      await assert.rejects(ask(clientFor(h, credentials.createSsl(pem('ca.crt')))), (err: ServiceError) => err.code === status.UNAVAILABLE);
      await assert.rejects(ask(clientFor(h, credentials.createSsl(pem('ca.crt'), pem('rogue.key'), pem('rogue.crt')))), (err: ServiceError) => err.code === status.UNAVAILABLE);
    });
  });

  it('http.base_path: routes move under the configured path', async () => {
    const h = await start(testConfigYaml('', ', base_path: /proxy/v1'));
    const moved = await h.http('/proxy/v1/subscribe', subscribe('chat:a', ['role:member']));
    assert.deepEqual([moved.status, moved.body], [200, '{"result":{}}']);
    const old = await h.http('/centrifugo/subscribe', subscribe('chat:a', ['role:member']));
    assert.equal(old.status, 404);
    const root = await start(testConfigYaml('', ', base_path: ""'));
    assert.deepEqual((await root.http('/subscribe', subscribe('chat:x'))).body, '{"error":{"code":403,"message":"permission denied"}}');
  });

  describe('policy.decision_log.allow_sample', () => {
    for (const [sample, allowLines] of [
      [0, 0],
      [1, 5],
    ] as const) {
      it(`${sample}: ${allowLines} allow lines for 5 allows; every deny is logged`, async () => {
        const h = await start(testConfigYaml().replace(`tests: `, `decision_log: { allow_sample: ${sample} }\n  tests: `));
        for (let i = 0; i < 5; i++) assert.equal((await h.http('/centrifugo/subscribe', subscribe(`chat:${i}`, ['role:member']))).body, '{"result":{}}');
        for (let i = 0; i < 3; i++) assert.notEqual((await h.http('/centrifugo/subscribe', subscribe(`chat:${i}`))).body, '{"result":{}}');
        const lines = await metric(h, 'cpp_decision_log_lines_total');
        assert.equal(counterValue(lines, 'decision="allow"'), allowLines, lines.join('\n'));
        assert.equal(counterValue(lines, 'decision="deny"'), 3, lines.join('\n'));
      });
    }
  });

  describe('auth.token_sources order', () => {
    const connect = (h: Harness, dataUser: string, headerUser: string) =>
      h.http(
        '/centrifugo/connect',
        JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: token(dataUser) } }),
        { authorization: `Bearer ${token(headerUser)}` },
      );
    it('data first: the token in data wins over the header', async () => {
      const h = await start(jwtConfig('[data.token, "header:authorization"]'));
      assert.match((await connect(h, 'from-data', 'from-header')).body, /"user":"from-data"/);
    });
    it('header first: the header wins over data', async () => {
      const h = await start(jwtConfig('["header:authorization", data.token]'));
      assert.match((await connect(h, 'from-data', 'from-header')).body, /"user":"from-header"/);
    });
    it('a source not listed is never read', async () => {
      const h = await start(jwtConfig('["header:authorization"]'));
      const body = JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: token('from-data') } });
      assert.equal((await h.http('/centrifugo/connect', body)).body, '{"disconnect":{"code":4501,"reason":"unauthorized"}}');
    });
  });

  it('codes.* overrides appear in HTTP and GRPC answers', async () => {
    const h = await start(
      testConfigYaml(`
codes:
  permission_denied: { code: 1403, message: "not for you" }
  unauthorized: { code: 4444, reason: "who are you" }
auth:
  jwt: { algorithms: [HS256], hmac_secret: test-hmac-secret-with-at-least-32-bytes! }`),
    );
    assert.equal((await h.http('/centrifugo/subscribe', subscribe('chat:a'))).body, '{"error":{"code":1403,"message":"not for you"}}');
    assert.deepEqual(await h.call('Subscribe', grpcSubscribe('chat:a')), { error: { code: 1403, message: 'not for you' } });
    const connect = JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: 'not-a-jwt' } });
    assert.equal((await h.http('/centrifugo/connect', connect)).body, '{"disconnect":{"code":4444,"reason":"who are you"}}');
    assert.deepEqual(await h.call('Connect', { client: 'c1', data: Buffer.from(JSON.stringify({ token: 'not-a-jwt' })) }), {
      disconnect: { code: 4444, reason: 'who are you' },
    });
  });

  it('grpc.max_message_size: a larger request is refused with RESOURCE_EXHAUSTED and decides nothing', async () => {
    const h = await start(testConfigYaml().replace('grpc: { port: 0, host: 127.0.0.1 }', 'grpc: { port: 0, host: 127.0.0.1, max_message_size: 2kb }'));
    const decisions = async () => (await metric(h, 'cpp_decisions_total')).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    assert.deepEqual(await h.call('Subscribe', { ...grpcSubscribe('chat:a', ['role:member']), data: Buffer.alloc(1000) }), { result: {} });
    const before = await decisions();
    await assert.rejects(h.call('Subscribe', { ...grpcSubscribe('chat:a', ['role:member']), data: Buffer.alloc(4096) }), (err: ServiceError) => {
      assert.equal(err.code, status.RESOURCE_EXHAUSTED);
      return true;
    });
    assert.equal(await decisions(), before);
  });
});
