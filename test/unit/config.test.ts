import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, parseConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/harness.js';

const FILE = `${ROOT}/config/test.yaml`;
const problems = (yaml: string, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    parseConfig(yaml, FILE, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => p.replace(`${FILE}: `, ''));
  }
  return [];
};

describe('config', () => {
  it('the bundled default is valid with an empty environment', () => {
    // The file `npm start` uses: every ${VAR:-fallback} in it must stand without the variable.
    const { file, config } = loadConfig(DEFAULT_CONFIG_FILE, {});
    assert.equal(file, `${ROOT}/config/default.yaml`);
    assert.equal(config.http.port, 3000);
    assert.equal(config.grpc.port, 50051);
    assert.equal(config.http.body_limit, 64 * 1024);
    assert.equal(config.caller_auth.secret, '');
    assert.equal(config.auth.jwt.jwks_url, '');
    assert.equal(config.cache.redis_url, '');
    assert.equal(config.cache.ttl, 30_000);
    assert.equal(config.log.level, 'info');
    // Paths are relative to config/, and loading has already checked that the files exist.
    assert.equal(config.policy.model, `${ROOT}/policies/model.conf`);
    assert.equal(config.policy.policy, `${ROOT}/policies/policy.csv`);
    assert.equal(config.policy.tests, `${ROOT}/policies/tests`);
  });

  it('the bundled default takes its variables from the environment', () => {
    // Shows the values above came from the file's fallbacks, not only from schema defaults.
    const { config } = loadConfig(DEFAULT_CONFIG_FILE, { HTTP_PORT: '3100', LOG_LEVEL: 'warn', JWT_ISSUER: 'https://issuer.test' });
    assert.equal(config.http.port, 3100);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.auth.jwt.issuer, 'https://issuer.test');
  });

  it('interpolates ${VAR} and ${VAR:-default}, typing whole-variable values', () => {
    const config = parseConfig('http: { port: "${P:-3001}" }\ncaller_auth: { secret: "pre-${S}-post" }\ngrpc: { enabled: "${G}" }', FILE, {
      S: 'abcdefghijklmnop',
      G: 'false',
    });
    assert.equal(config.http.port, 3001);
    assert.equal(config.caller_auth.secret, 'pre-abcdefghijklmnop-post');
    assert.equal(config.grpc.enabled, false);
  });

  const cases: Array<[string, string, string[]]> = [
    ['unknown keys', 'http: { prot: 1 }\nextra: true', ['http.prot: unknown key', 'extra: unknown key']],
    ['wrong types', 'http: { port: "abc" }\ngrpc: { enabled: "yes" }', ['http.port: Expected number, received nan', 'grpc.enabled: Expected boolean, received string']],
    ['bad duration', 'cache: { ttl: 30 seconds }', ['cache.ttl: expected a duration like "900ms", "30s" or "5m", got "30 seconds"']],
    ['missing file', 'policy: { model: nope.conf }', [`policy.model: file not found: ${ROOT}/config/nope.conf`]],
    ['unset variable', 'caller_auth: { secret: "${NOPE}" }', ['caller_auth.secret: environment variable NOPE is not set (write ${NOPE:-default} to allow that)']],
    ['HS256 without a secret', 'auth: { jwt: { algorithms: [HS256] } }', ['auth.jwt.algorithms: HS256 needs auth.jwt.hmac_secret']],
    ['code out of range', 'codes: { permission_denied: { code: 99 } }', ['codes.permission_denied.code: Number must be greater than or equal to 400']],
    ['long disconnect reason', `codes: { forbidden: { reason: "${'x'.repeat(40)}" } }`, ['codes.forbidden.reason: must be at most 32 bytes']],
    ['bad route pattern', 'rpc: { routes: [ { method: "a*b", upstream: "http://x" } ] }', ['rpc.routes[0].method: "*" may only end a method prefix, got "a*b"']],
    ['a failure extension under 1s (Centrifugo needs expire_at > now)', 'auth: { failure_extension: 0 }', ['auth.failure_extension: must be at least 1s']],
    ['a subscription lifetime under 1s', 'auth: { subscription_lifetime: 500ms }', ['auth.subscription_lifetime: must be 0 (off) or at least 1s']],
    ['a max_lifetime under 1s', 'auth: { jwt: { max_lifetime: 0 } }', ['auth.jwt.max_lifetime: must be at least 1s']],
    ['invalid YAML', 'http: [', ['invalid YAML']],
  ];
  for (const [note, yaml, expected] of cases) {
    it(`refuses ${note} with one line per problem`, () => {
      const got = problems(yaml);
      if (note === 'invalid YAML') assert.match(got[0] ?? '', /^(:\d+: )?invalid YAML|^.*invalid YAML/);
      else assert.deepEqual(got, expected);
    });
  }
});
