/**
 * Logs an operator reads: level names, refused requests at most once per reason and interval
 * (with the count held back), and a `listening` line that names the key source, Redis topology
 * and tracing without leaking credentials.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startupSummary } from '../../src/telemetry/startup-summary.js';
import { ThrottledLog } from '../../src/telemetry/throttled-log.js';
import { startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { logCapture } from '../helpers/log-capture.js';
import { nowSeconds, signJwt } from '../helpers/tokens.js';

describe('operator logs', () => {
  const started: Harness[] = [];
  after(async () => {
    for (const h of started) await h.stop();
  });

  it('levels are names, not numbers', () => {
    const { lines, stream } = logCapture();
    createLogger('info', stream).warn('x');
    assert.equal(lines[0]?.level, 'warn');
  });

  it('a throttled line: once per key and interval, then with the number held back', () => {
    const { lines, stream } = logCapture();
    let now = 0;
    const throttled = new ThrottledLog(pino(stream), 10_000, () => now);
    for (let i = 0; i < 5; i++) throttled.warn('http 401', { reason: 'caller authentication failed' }, 'refused');
    throttled.warn('grpc 16', {}, 'refused');
    now = 10_000;
    throttled.warn('http 401', {}, 'refused');
    assert.deepEqual(
      lines.map((l) => [l.reason ?? null, l.suppressed ?? 0]),
      [['caller authentication failed', 0], [null, 0], [null, 4]],
    );
  });

  it('refused callers are logged once per transport and reason, never with the secret they sent', async () => {
    const { lines, stream } = logCapture();
    const h = await startHarness(testConfigYaml('caller_auth: { secret: operator-logs-secret-0123456789 }'), { log: pino(stream) });
    started.push(h);
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', channel: 'chat:a' });
    for (let i = 0; i < 3; i++) {
      assert.equal((await h.http('/centrifugo/subscribe', body, { 'x-proxy-secret': 'wrong-secret-value-xyz' })).status, 401);
      await assert.rejects(h.call('Subscribe', JSON.parse(body) as Record<string, unknown>, { 'x-proxy-secret': 'wrong-secret-value-xyz' }));
    }
    const refused = lines.filter((l) => l.msg === 'refused a request that is not a valid proxy request');
    assert.deepEqual(
      refused.map((l) => [l.transport, l.reason]),
      [
        ['http', 'caller authentication failed'],
        ['grpc', 'caller authentication failed'],
      ],
    );
    assert.ok(!JSON.stringify(lines).includes('wrong-secret-value-xyz'));
  });

  it('refused tokens: the reason in words, once per reason and interval, never the token', async () => {
    const { lines, stream } = logCapture();
    const h = await startHarness(testConfigYaml(`auth: { jwt: { algorithms: [HS256], hmac_secret: ${'k'.repeat(40)}, audience: centrifugo } }`), { log: pino(stream) });
    started.push(h);
    const token = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: '56', aud: 'other', exp: nowSeconds() + 60 }, { alg: 'HS256', secret: 'k'.repeat(40) });
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token } });
    for (let i = 0; i < 4; i++) assert.match((await h.http('/centrifugo/connect', body)).body, /4501/);
    const refused = lines.filter((l) => l.msg === 'connect refused: invalid token');
    assert.equal(refused.length, 1, JSON.stringify(refused));
    assert.equal(refused[0]?.reason, 'unexpected "aud" claim value (ERR_JWT_CLAIM_VALIDATION_FAILED)');
    assert.ok(!JSON.stringify(lines).includes(token));
  });

  it('the startup summary names sources and topology without credentials', () => {
    const config = parseConfig(
      `${testConfigYaml('')}
auth: { jwt: { jwks_url: "https://user:pw@idp.example/keys" } }
cache: { redis_url: "redis+sentinel://:redis-pw@s1:26379,s2:26379/mymaster" }
caller_auth: { secret: operator-logs-secret-0123456789 }
`,
      '/tmp/config.yaml',
    );
    const summary = startupSummary(config, {});
    assert.deepEqual(summary, { key_source: 'jwks_url https://idp.example', redis: 'sentinel (2 hosts)', tracing: 'off', caller_auth: 'on' });
    assert.ok(!JSON.stringify(summary).includes('pw'));
  });
});
