/**
 * Revocation through the real Redis, over both transports: `revoke` refuses new connects and
 * expires live connections at their next refresh; `--lift` undoes it. Each replica mirrors the
 * set in memory: keys present at start are read, keys written behind the CLI's back are picked
 * up at the next full read, and a Redis outage keeps the revocations read last in force; a
 * Redis that was never readable disconnects nobody.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';
import { dropPrefix, REDIS_URL, redisClient, startThrowawayRedis, uniquePrefix } from '../helpers/redis.js';
import { HMAC_SECRET, signJwt } from '../helpers/tokens.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const NOW = NOW_MS / 1000;
const token = (sub: string) =>
  signJwt({ alg: 'HS256', typ: 'JWT' }, { sub, exp: NOW + 3600, roles: ['role:member'] }, { alg: 'HS256', secret: HMAC_SECRET });
const connect = (sub: string) => JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: token(sub) } });
const refresh = (user: string) => JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user, meta: { roles: ['role:member'] } });

const CONNECTED = (user: string) => `{"result":{"user":"${user}","expire_at":${NOW + 3600},"channels":["personal:${user}","chat:lobby"],"meta":{"roles":["role:member"]}}}`;
const FORBIDDEN = '{"disconnect":{"code":4503,"reason":"forbidden"}}';
const EXTENDED = `{"result":{"expire_at":${NOW + 300}}}`;
const EXPIRED = '{"result":{"expired":true}}';

const configFor = (redisUrl: string, prefix: string, resync = '10s') =>
  testConfigYaml(`
auth:
  jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" }
  channels: ["personal:{user}", "chat:lobby"]
  revocation_resync: ${resync}
cache: { redis_url: "${redisUrl}", key_prefix: "${prefix}" }
`);

/** The replica's mirror size (cpp_revoked_users), polled until it is `count` (at most 2 s). */
async function mirrored(h: Harness, count: number): Promise<void> {
  let seen = '';
  for (let i = 0; i < 100; i++) {
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
    seen = /^cpp_revoked_users (\d+)$/m.exec(metrics)?.[1] ?? '';
    if (seen === String(count)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`cpp_revoked_users is ${seen}, expected ${count}`);
}

async function cli(args: string[]) {
  const lines: string[] = [];
  const code = await runCli(args, { log: (l) => lines.push(l), error: (l) => lines.push(l) });
  return { code, lines };
}

/** Asks over HTTP and GRPC; both must give `expected` (exact bytes over HTTP). */
async function both(h: Harness, event: 'connect' | 'refresh', body: string, expected: string) {
  const http = await h.http(`/centrifugo/${event}`, body);
  assert.equal(http.body, expected, `HTTP ${event}`);
  const grpc = await h.call(event === 'connect' ? 'Connect' : 'Refresh', jsonToGrpcRequest(body));
  assert.deepEqual(grpcToJson(grpc), JSON.parse(expected), `GRPC ${event}`);
}

describe('revocation (real Redis)', () => {
  const prefix = uniquePrefix();
  const redis = redisClient();
  let h: Harness;
  let configFile: string;

  before(async () => {
    const yaml = configFor(REDIS_URL, prefix);
    configFile = writeConfig(yaml);
    h = await startHarness(yaml, { now: () => NOW_MS });
  });
  after(async () => {
    await h.stop();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('a revoked user cannot connect and live connections expire at refresh; --lift restores both', async () => {
    await both(h, 'connect', connect('56'), CONNECTED('56'));
    await both(h, 'refresh', refresh('56'), EXTENDED);

    const revoked = await cli(['revoke', '--user', '56', '--config', configFile]);
    assert.deepEqual(revoked, { code: 0, lines: ['revoked user "56" until lifted (revoke --user U --lift)'] });
    assert.equal(await redis.get(`${prefix}revoked:56`), '1');
    // The CLI's announcement reaches the replica's mirror in milliseconds (no restart, no resync).
    await mirrored(h, 1);

    await both(h, 'connect', connect('56'), FORBIDDEN);
    await both(h, 'refresh', refresh('56'), EXPIRED);
    // Somebody else is unaffected.
    await both(h, 'connect', connect('57'), CONNECTED('57'));
    await both(h, 'refresh', refresh('57'), EXTENDED);

    const lifted = await cli(['revoke', '--user', '56', '--lift', '--config', configFile]);
    assert.deepEqual(lifted, { code: 0, lines: ['lifted revocation of user "56"'] });
    await mirrored(h, 0);
    await both(h, 'connect', connect('56'), CONNECTED('56'));
    await both(h, 'refresh', refresh('56'), EXTENDED);
  });

  it('--ttl sets an expiry on the revocation', async () => {
    const r = await cli(['revoke', '--user', 'temp-user', '--ttl', '90s', '--config', configFile]);
    assert.equal(r.code, 0);
    const ttl = await redis.pttl(`${prefix}revoked:temp-user`);
    assert.ok(ttl > 85_000 && ttl <= 90_000, `pttl ${ttl}`);
  });

  it('revoke refuses bad input with one clear line', async () => {
    assert.deepEqual(await cli(['revoke', '--config', configFile]), { code: 2, lines: ['revoke needs --user U (a user ID as it appears in the token)'] });
    assert.deepEqual(await cli(['revoke', '--user', 'x', '--ttl', 'soon', '--config', configFile]), {
      code: 2,
      lines: ['--ttl: expected a duration like "30m" or "24h", got "soon"'],
    });
    const noRedis = writeConfig(testConfigYaml());
    const r = await cli(['revoke', '--user', 'x', '--config', noRedis]);
    assert.equal(r.code, 1);
    assert.match(r.lines[0] ?? '', /cache\.redis_url: revocations live in Redis; set cache\.redis_url \(or REDIS_URL\) first$/);
  });
});

/** A service on a fresh key prefix of `redisUrl`, removed with its keys after `run`. */
async function withMirror(
  options: { redisUrl?: string; resync: string; now?: () => number },
  run: (h: Harness, prefix: string) => Promise<void>,
  before?: (prefix: string) => Promise<unknown>,
): Promise<void> {
  const prefix = uniquePrefix();
  const redisUrl = options.redisUrl ?? REDIS_URL;
  await before?.(prefix);
  const h = await startHarness(configFor(redisUrl, prefix, options.resync), { now: options.now ?? (() => NOW_MS) });
  try {
    await run(h, prefix);
  } finally {
    await h.stop();
    if (redisUrl === REDIS_URL) {
      const redis = redisClient();
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
  }
}

describe('the in-memory mirror of revocations', () => {
  const redis = redisClient();
  after(() => redis.disconnect());

  it('a revocation with --ttl ends on time in the mirror too, between two full reads', async () => {
    let clock = NOW_MS;
    // A long resync: only the expiry the announcement carried can end it.
    await withMirror({ resync: '1h', now: () => clock }, async (h, prefix) => {
      const configFile = writeConfig(configFor(REDIS_URL, prefix));
      assert.equal((await cli(['revoke', '--user', 'brief', '--ttl', '90s', '--config', configFile])).code, 0);
      await mirrored(h, 1);
      await both(h, 'connect', connect('brief'), FORBIDDEN);
      clock += 89_000;
      await both(h, 'connect', connect('brief'), FORBIDDEN);
      clock += 2_000;
      await both(h, 'connect', connect('brief'), CONNECTED('brief'));
    });
  });

  it('reads the keys present at start, and keys written without an announcement at the next full read', async () => {
    await withMirror(
      { resync: '200ms' },
      async (h, prefix) => {
        await both(h, 'connect', connect('before-start'), FORBIDDEN);
        await both(h, 'connect', connect('quiet'), CONNECTED('quiet'));
        // Another tool writes the key and announces nothing: the next full read (200 ms) finds it.
        await redis.set(`${prefix}revoked:quiet`, '1');
        await mirrored(h, 2);
        await both(h, 'connect', connect('quiet'), FORBIDDEN);
        await redis.del(`${prefix}revoked:quiet`);
        await mirrored(h, 1);
        await both(h, 'connect', connect('quiet'), CONNECTED('quiet'));
      },
      (prefix) => redis.set(`${prefix}revoked:before-start`, '1'),
    );
  });

  it('keeps the revocations read last in force while Redis is down, and follows changes once it is back', async () => {
    const server = await startThrowawayRedis();
    try {
      await withMirror({ redisUrl: server.url, resync: '200ms' }, async (h, prefix) => {
        const configFile = writeConfig(configFor(server.url, prefix));
        assert.equal((await cli(['revoke', '--user', 'banned', '--config', configFile])).code, 0);
        await mirrored(h, 1);
        await server.kill();
        // Several full reads fail meanwhile; the mirror stays.
        await new Promise((r) => setTimeout(r, 600));
        await both(h, 'connect', connect('banned'), FORBIDDEN);
        await both(h, 'refresh', refresh('banned'), EXPIRED);
        await both(h, 'connect', connect('56'), CONNECTED('56'));
        // Redis comes back empty (it keeps nothing on disk): the next full read says nobody is revoked.
        await server.restart();
        await mirrored(h, 0);
        await both(h, 'connect', connect('banned'), CONNECTED('banned'));
      });
    } finally {
      await server.stop();
    }
  });
});

describe('revocation while Redis is down', () => {
  it('a Redis never readable since start: connect and refresh still answer (not revoked is assumed) and the metric counts it', async () => {
    // Port 1 on loopback refuses connections at once.
    const h = await startHarness(configFor('redis://127.0.0.1:1', uniquePrefix()), { now: () => NOW_MS });
    try {
      await both(h, 'connect', connect('56'), CONNECTED('56'));
      await both(h, 'refresh', refresh('56'), EXTENDED);
      const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
      const unknown = /^cpp_revocation_unknown_total (\d+)$/m.exec(metrics);
      assert.ok(unknown && Number(unknown[1]) >= 1, 'cpp_revocation_unknown_total counted');
    } finally {
      await h.stop();
    }
  });
});
