import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/harness.js';

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out, err };
}

const DEFAULT = `${ROOT}/config/default.yaml`;

describe('cli', () => {
  it('check passes on the shipped config and policies', async () => {
    const r = await cli(['check', '--config', DEFAULT]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0] ?? '', /^ok: .*default\.yaml: policy [0-9a-f]{12}, \d+ rules, \d+ test cases pass$/);
    assert.equal(r.out[1], 'evaluator: indexed');
  });

  it('test reports N passed, N failed', async () => {
    const r = await cli(['test', '--config', DEFAULT]);
    assert.equal(r.code, 0);
    assert.match(r.out.at(-1) ?? '', /^\d+ passed, 0 failed$/);
  });

  it('test fails with one line per failing case', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'cases:\n  - { note: wrong on purpose, user: "56", action: subscribe, object: personal:57, expect: allow }\n');
    const configFile = join(mkdtempSync(join(tmpdir(), 'cpp-cli-')), 'config.yaml');
    writeFileSync(configFile, `policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: ${dir} }\n`);
    const r = await cli(['test', '--config', configFile]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.out, [
      `FAIL ${dir}/bad.yaml cases[0] "wrong on purpose": user="56" subscribe "personal:57" expected allow, got deny`,
      '0 passed, 1 failed',
    ]);
    const check = await cli(['check', '--config', configFile]);
    assert.equal(check.code, 1);
  });

  it('check names the config path of every problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-cli-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'http: { port: -1 }\npolicy: { model: missing.conf }\n');
    const r = await cli(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [`${file}: http.port: Number must be greater than or equal to 0`]);
  });

  it('check reports a broken policy line with file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-cli-'));
    writeFileSync(join(dir, 'policy.csv'), 'p, a, b, subscribe, allow\np, a, b\n');
    writeFileSync(join(dir, 'config.yaml'), `policy: { model: ${ROOT}/policies/model.conf, policy: policy.csv, tests: "" }\n`);
    const r = await cli(['check', '--config', join(dir, 'config.yaml')]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [`${dir}/policy.csv:2: "p" takes 4 values (sub, obj, act, eft), got 2`]);
  });

  it('explain prints the decision, the deciding rule and the version', async () => {
    const r = await cli(['explain', '--config', DEFAULT, '--user', '666', '--roles', 'role:member', '--action', 'publish', '--object', 'chat:room', '--json']);
    assert.equal(r.code, 0);
    const x = JSON.parse(r.out[0] ?? '{}');
    assert.equal(x.decision, 'deny');
    assert.match(x.policy_version, /^[0-9a-f]{12}$/);
    assert.deepEqual(x.deciding.map((d: { rule: string }) => d.rule), ['p, 666, *, publish, deny']);
    assert.ok(x.matched.some((d: { rule: string }) => d.rule === 'p, role:member, chat:*, publish, allow'));
  });

  it('an unknown command is named, then the usage, with exit 2', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.err[0] ?? '', /^unknown command "frobnicate"\n\nusage:/);
    assert.equal((await cli(['help', 'frobnicate'])).code, 2);
  });

  it('--help, -h and help print the usage on stdout with exit 0, listing commands and environment variables', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await cli(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.deepEqual(r.err, []);
      const text = r.out.join('\n');
      assert.match(text, /^usage: centrifugo-policy-proxy <command>/);
      for (const command of ['serve', 'check', 'test', 'explain', 'diff', 'revoke', 'types']) assert.match(text, new RegExp(`\\n  ${command}\\b`));
      for (const name of ['CONFIG_FILE', 'HTTP_PORT', 'GRPC_PORT', 'PROXY_SECRET', 'JWKS_URL', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT']) assert.match(text, new RegExp(name));
      assert.doesNotMatch(text, /\bVAR\b/, 'the config file\'s comments are not variables');
    }
  });

  it('no command at all is a mistake: usage on stderr, exit 2', async () => {
    const r = await cli([]);
    assert.equal(r.code, 2);
    assert.match(r.err[0] ?? '', /^usage:/);
  });

  it('per-command --help and help COMMAND print that command\'s usage with exit 0 and run nothing', async () => {
    for (const args of [['revoke', '--help'], ['revoke', '-h'], ['help', 'revoke']]) {
      const r = await cli(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out[0] ?? '', /^usage: centrifugo-policy-proxy revoke --user U/);
    }
  });

  it('a bad flag names the flag and shows that command\'s usage', async () => {
    const r = await cli(['check', '--frob']);
    assert.equal(r.code, 2);
    assert.match(r.err[0] ?? '', /--frob/);
    assert.match(r.err[0] ?? '', /usage: centrifugo-policy-proxy check/);
  });

  it('--version prints package.json\'s version', async () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
    for (const args of [['--version'], ['-v'], ['version']]) {
      const r = await cli(args);
      assert.equal(r.code, 0);
      assert.deepEqual(r.out, [version]);
    }
  });
});

describe('cli dev-token', () => {
  const DEMO = `${ROOT}/examples/demo/config.yaml`;

  it('signs a token the demo config verifies: user, roles, issuer, expiry', async () => {
    const r = await cli(['dev-token', '--config', DEMO, '--user', 'alice', '--roles', 'role:member, role:guest', '--ttl', '10m']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const config = loadConfig(DEMO).config;
    const { payload, protectedHeader } = await jwtVerify(r.out[0] ?? '', new TextEncoder().encode(config.auth.jwt.hmac_secret), {
      issuer: config.auth.jwt.issuer,
      algorithms: [...config.auth.jwt.algorithms],
    });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.sub, 'alice');
    assert.deepEqual(payload.roles, ['role:member', 'role:guest']);
    assert.ok(Math.abs((payload.exp ?? 0) - Date.now() / 1000 - 600) < 5);
  });

  it('never signs for the bundled default config, even with an HMAC key in the environment', async () => {
    process.env.JWT_HMAC_SECRET = 'x'.repeat(40);
    try {
      const r = await cli(['dev-token', '--config', DEFAULT, '--user', 'alice']);
      assert.equal(r.code, 1);
      assert.match(r.err[0] ?? '', /never signs for the bundled default config/);
    } finally {
      delete process.env.JWT_HMAC_SECRET;
    }
    const none = await cli(['dev-token', '--user', 'alice']);
    assert.equal(none.code, 2);
    assert.match(none.err[0] ?? '', /needs --config FILE of a development config/);
  });

  it('refuses a config that trusts no HMAC key', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cpp-cli-')), 'config.yaml');
    writeFileSync(file, `policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "" }\n`);
    const r = await cli(['dev-token', '--config', file, '--user', 'alice']);
    assert.equal(r.code, 1);
    assert.match(r.err[0] ?? '', /auth\.jwt: dev-token signs with hmac_secret and an HS algorithm/);
  });
});
