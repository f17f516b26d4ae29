/**
 * First-run mistakes that used to pass `check` and then refuse everyone silently, or die with a
 * raw stack: each now gets one line from `check`, from startup, or from the command concerned.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/harness.js';
import { dropPrefix, redisClient, REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const POLICY = `policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "", watch: false }\n`;

function configFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cpp-first-run-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out, err };
}

const NO_KEYS =
  'warning: auth.jwt: no key source (jwks_url / JWKS_URL, jwks_file, public_key_file or hmac_secret / JWT_HMAC_SECRET) and auth.anonymous is off: every connect will be refused (4501)';
const HMAC = 'x'.repeat(40);

describe('first run: check and startup explain themselves', () => {
  it('no key source while anonymous is off: one warning line, check still passes', async () => {
    const r = await cli(['check', '--config', configFile(POLICY)]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.err.filter((l) => l.startsWith('warning: auth.')), [NO_KEYS]);
    for (const fix of ['auth: { anonymous: true }\n', `auth: { jwt: { algorithms: [HS256], hmac_secret: ${HMAC} } }\n`]) {
      const fixed = await cli(['check', '--config', configFile(POLICY + fix)]);
      assert.deepEqual(fixed.err.filter((l) => l.startsWith('warning: auth.')), [], fix);
    }
  });

  it('hmac_secret set but no HS algorithm allowed: one warning line', async () => {
    const r = await cli(['check', '--config', configFile(`${POLICY}auth: { jwt: { algorithms: [RS256], hmac_secret: ${HMAC} } }\n`)]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.err.filter((l) => l.startsWith('warning: auth.')), [
      'warning: auth.jwt.hmac_secret is set but auth.jwt.algorithms (RS256) allows no HS256/HS384/HS512: tokens signed with it are refused',
    ]);
  });

  it('a server-side channel template no subscribe rule can grant: one warning line', async () => {
    const channels = `auth: { anonymous: true, channels: ["personal:{user}", "team:{user}:inbox"] }\n`;
    const r = await cli(['check', '--config', configFile(POLICY + channels)]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.err.filter((l) => l.startsWith('warning: auth.')), [
      'warning: auth.channels: "team:{user}:inbox" matches no "p, …, subscribe, allow" line naming its namespace (catch-all "*" lines aside): connect gives it to nobody else',
    ]);
  });

  it('startup logs the same warnings', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { config } = loadConfig(configFile(`http: { port: 0, host: 127.0.0.1 }\ngrpc: { enabled: false }\ncaller_auth: { secret: 0123456789abcdef0123 }\n${POLICY}`));
    const app = buildApp(config, { log });
    await app.start();
    await app.stop();
    assert.ok(lines.some((l) => l.level === 40 && l.msg === NO_KEYS.slice('warning: '.length)), JSON.stringify(lines));
  });

  it('a jwks_url that is not an http(s) URL: check and serve refuse it in one line (no ENOENT stack)', async () => {
    const file = configFile(`${POLICY}auth: { jwt: { jwks_url: ./keys.json } }\n`);
    const expected = `${file}: auth.jwt.jwks_url: must be an http(s) URL, got "./keys.json" (a key set on disk goes in auth.jwt.jwks_file)`;
    for (const command of ['check', 'serve']) {
      const r = await cli([command, '--config', file]);
      assert.equal(r.code, 1, command);
      assert.deepEqual(r.err, [expected], command);
    }
    assert.equal((await cli(['check', '--config', configFile(`${POLICY}auth: { jwt: { jwks_url: "https://idp.example/jwks" } }\n`)])).code, 0);
  });
});

describe('first run: a port in use names HTTP_PORT / GRPC_PORT', () => {
  const blockers: Server[] = [];
  after(() => blockers.forEach((b) => b.close()));

  const occupy = async (): Promise<number> => {
    const server = createServer().listen(0, '127.0.0.1');
    blockers.push(server);
    await new Promise((r) => server.once('listening', r));
    return (server.address() as { port: number }).port;
  };

  it('HTTP port taken', async () => {
    const port = await occupy();
    const r = await cli(['serve', '--config', configFile(`http: { port: ${port}, host: 127.0.0.1 }\ngrpc: { enabled: false }\nlog: { level: silent }\n${POLICY}`)]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [
      `cannot start: http.port ${port} is already in use on 127.0.0.1 (another process listens there): choose another with HTTP_PORT (bundled config) or http.port`,
    ]);
  });

  it('GRPC port taken', async () => {
    const port = await occupy();
    const r = await cli(['serve', '--config', configFile(`http: { port: 0, host: 127.0.0.1 }\ngrpc: { port: ${port}, host: 127.0.0.1 }\nlog: { level: silent }\n${POLICY}`)]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [
      `cannot start: grpc.port ${port} is already in use on 127.0.0.1 (another process listens there): choose another with GRPC_PORT (bundled config) or grpc.port`,
    ]);
  });
});

describe('first run: revoke needs only the Redis settings', () => {
  it('revokes and lifts with a config whose caller secret, key source and policy files are broken', async () => {
    const prefix = uniquePrefix();
    // Every key but cache is wrong here: a too-short secret, an unset variable, missing files.
    const file = configFile(
      `caller_auth: { secret: short }\nauth: { jwt: { jwks_url: "\${UNSET_JWKS_URL_FOR_TEST}" } }\npolicy: { model: /nowhere/model.conf }\ncache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}" }\n`,
    );
    const revoke = await cli(['revoke', '--config', file, '--user', 'u-1', '--ttl', '1m']);
    assert.equal(revoke.code, 0, revoke.err.join('\n'));
    assert.deepEqual(revoke.out, ['revoked user "u-1" for 1m']);
    const client = redisClient();
    try {
      assert.equal((await client.keys(`${prefix}*`)).length, 1);
      const lift = await cli(['revoke', '--config', file, '--user', 'u-1', '--lift']);
      assert.equal(lift.code, 0, lift.err.join('\n'));
      assert.equal((await client.keys(`${prefix}*`)).length, 0);
    } finally {
      await dropPrefix(client, prefix);
      client.disconnect();
    }
  });

  it('a broken Redis setting is still reported, in one line', async () => {
    const file = configFile('cache: { redis_url: "http://not-redis" }\n');
    const r = await cli(['revoke', '--config', file, '--user', 'u-1']);
    assert.equal(r.code, 1);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0] ?? '', /cache\.redis_url: /);
  });
});
