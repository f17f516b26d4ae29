/**
 * Secrets and payloads never reach a log line or a span. Traffic over HTTP and GRPC with known
 * values (valid, forged, expired and malformed tokens in data and in the Authorization header,
 * the caller secret right and wrong, publish and rpc data carrying a marker, an upstream that
 * answers with the marker and one that fails with it, a revoked user, a body that is not JSON)
 * at log level trace; then every captured line and every exported span is searched for them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTracing, stopTracing } from '../../src/telemetry/tracing.js';
import { jsonToGrpcRequest, ROOT, startHarness, type Harness } from '../helpers/harness.js';
import { logCapture } from '../helpers/log-capture.js';
import { listen, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { dropPrefix, REDIS_URL, redisClient, uniquePrefix } from '../helpers/redis.js';
import { HMAC_SECRET, nowSeconds, signJwt } from '../helpers/tokens.js';

const SECRET = 'never-logged-caller-secret-5f1e2d3c';
const WRONG_SECRET = 'never-logged-wrong-secret-9a8b7c6d';
const MARKER = 'PAYLOAD-MARKER-7c0ffee';
const hs = (claims: Record<string, unknown>) => signJwt({ alg: 'HS256', typ: 'JWT' }, claims, { alg: 'HS256', secret: HMAC_SECRET });
const valid = hs({ sub: 'u-valid', exp: nowSeconds() + 3600, roles: ['role:member'] });
const revokedUser = hs({ sub: 'u-revoked', exp: nowSeconds() + 3600, roles: ['role:member'] });
const expired = hs({ sub: 'u-expired', exp: nowSeconds() - 3600 });
const forged = `${valid.split('.').slice(0, 2).join('.')}.${Buffer.from('forged-signature-bytes-0123456789').toString('base64url')}`;
const malformed = `not-a-jwt-${MARKER}-token`;
const TOKENS = { valid, revokedUser, expired, forged, malformed };

const common = { client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json' };
const member = { roles: ['role:member'] };
const connect = (token: string) => JSON.stringify({ ...common, data: { token } });
const publish = JSON.stringify({ ...common, user: 'u-valid', channel: 'chat:a', data: { text: MARKER }, meta: member });
const rpc = (method: string) => JSON.stringify({ ...common, user: 'u-valid', method, data: { note: MARKER }, meta: member });
const refresh = (user: string) => JSON.stringify({ ...common, user, meta: member });

describe('secrets and payloads never logged (log level trace, spans exported)', () => {
  const capture = logCapture();
  const prefix = uniquePrefix();
  const redis = redisClient();
  let receiver: OtlpReceiver;
  let upstream: Server;
  let h: Harness;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const failing = req.url === '/fail';
        res.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: MARKER, token: valid }));
      });
    });
    const up = await listen(upstream);
    receiver = await startOtlpReceiver();
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_TRACES_SAMPLER: 'always_on' });
    assert.equal(await startTracing(process.env), true);
    h = await startHarness(
      `
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy:
  model: ${ROOT}/policies/model.conf
  policy: ${ROOT}/policies/policy.csv
  decision_log: { allow_sample: 1 }
caller_auth: { secret: ${SECRET} }
auth:
  jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" }
cache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}" }
rpc:
  routes:
    - { method: tasks.echo, upstream: "${up}/echo", headers: [authorization] }
    - { method: tasks.fail, upstream: "${up}/fail" }
`,
      { log: createLogger('trace', capture.stream) },
    );
  });
  after(async () => {
    await h?.stop();
    await stopTracing();
    receiver.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  /** One request over both transports; the answers themselves are other tests' business. */
  async function both(event: string, method: string, body: string, headers: Record<string, string> = { 'x-proxy-secret': SECRET }) {
    await h.http(`/centrifugo/${event}`, body, headers);
    await h.call(method, jsonToGrpcRequest(body), headers).catch(() => undefined);
  }

  it('runs the traffic', { timeout: 60_000 }, async () => {
    for (const token of Object.values(TOKENS)) await both('connect', 'Connect', connect(token));
    await both('connect', 'Connect', connect(''), { 'x-proxy-secret': SECRET, authorization: `Bearer ${forged}` });
    await both('connect', 'Connect', connect(valid), { 'x-proxy-secret': WRONG_SECRET });
    await both('publish', 'Publish', publish);
    await both('rpc', 'RPC', rpc('tasks.echo'), { 'x-proxy-secret': SECRET, authorization: `Bearer ${valid}` });
    await both('rpc', 'RPC', rpc('tasks.fail'));
    await h.http('/centrifugo/publish', `{"data":{"text":"${MARKER}"`, { 'x-proxy-secret': SECRET });
    const lines: string[] = [];
    const code = await runCli(['revoke', '--user', 'u-revoked', '--config', h.configFile], { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    assert.equal(code, 0, lines.join('\n'));
    for (let i = 0; i < 50; i++) {
      const answer = await h.http('/centrifugo/connect', connect(revokedUser), { 'x-proxy-secret': SECRET });
      if (answer.body.includes('4503')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await both('refresh', 'Refresh', refresh('u-revoked'));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(capture.lines.length > 20, `only ${capture.lines.length} log lines: the scan would prove little`);
    assert.ok(capture.lines.some((l) => l.level === 'debug' || l.level === 'trace' || l.msg === 'decision'), 'verbose lines were captured');
    assert.ok(receiver.spans.length > 10, `only ${receiver.spans.length} spans`);
  });

  const needles: Array<[string, string]> = [
    ['caller secret', SECRET],
    ['wrong caller secret', WRONG_SECRET],
    ['hmac secret', HMAC_SECRET],
    ['payload marker', MARKER],
    ...Object.entries(TOKENS).flatMap(([name, token]): Array<[string, string]> => [
      [`${name} token`, token],
      [`${name} token signature`, token.split('.')[2] ?? token],
    ]),
  ];

  it('no log line contains a token, a secret or the payload', () => {
    const text = capture.lines.map((l) => JSON.stringify(l));
    for (const [name, needle] of needles) {
      const found = text.filter((line) => line.includes(needle));
      assert.deepEqual(found, [], `${name} in the log`);
    }
  });

  it('no span contains a token, a secret or the payload', () => {
    const text = JSON.stringify(receiver.spans);
    for (const [name, needle] of needles) assert.equal(text.includes(needle), false, `${name} in a span`);
  });
});
