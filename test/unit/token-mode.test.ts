/**
 * Token mode's pieces on their own: the signer for every algorithm Centrifugo's client.token
 * can verify (checked with node:crypto, never jose), the config checks, API key matching and
 * the rate limiter.
 */
import assert from 'node:assert/strict';
import { createPublicKey, createVerify, verify as verifyOneShot, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { ApiKeys, presentedKey } from '../../src/token/api-keys.js';
import { fixedWindow } from '../../src/token/rate-limit.js';
import { createSigner } from '../../src/token/signer.js';
import { ROOT } from '../helpers/harness.js';
import { ec, ed, rsa } from '../helpers/tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'cpp-token-keys-'));
const pemFile = (name: string, key: KeyObject) => {
  const file = join(dir, name);
  writeFileSync(file, key.export({ type: 'pkcs8', format: 'pem' }));
  return file;
};
const files = { RS256: pemFile('rsa.pem', rsa.privateKey), ES256: pemFile('ec.pem', ec.privateKey), EdDSA: pemFile('ed.pem', ed.privateKey) };
const publicKeys = { RS256: rsa.publicKey, ES256: ec.publicKey, EdDSA: ed.publicKey };

const connection = (extra: Record<string, unknown>) => configSchema.parse({ token_mode: { connection: extra } }).token_mode.connection;

function checkSignature(token: string, alg: 'RS256' | 'ES256' | 'EdDSA', key: KeyObject): boolean {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const input = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  if (alg === 'EdDSA') return verifyOneShot(null, input, key, sig);
  if (alg === 'ES256') return createVerify('SHA256').update(input).verify({ key, dsaEncoding: 'ieee-p1363' }, sig);
  return createVerify('RSA-SHA256').update(input).verify(key, sig);
}

describe('token signer', () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`${alg}: verifies with the public key (node:crypto), header names alg and kid`, async () => {
      const signer = createSigner(connection({ algorithm: alg, private_key_file: files[alg], key_id: 'k1' }));
      const token = await signer.sign({ sub: '56', exp: 2_000_000_000 });
      assert.ok(checkSignature(token, alg, publicKeys[alg]));
      assert.ok(!checkSignature(token.replace(/\.[^.]+$/, `.${Buffer.alloc(alg === 'RS256' ? 256 : 64).toString('base64url')}`), alg, publicKeys[alg]));
      assert.deepEqual(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()), { alg, typ: 'JWT', kid: 'k1' });
      // The JWKS Centrifugo's jwks_public_endpoint may read: the same public key.
      const jwk = signer.jwks()?.keys[0];
      assert.equal(jwk?.kid, 'k1');
      assert.equal(jwk?.alg, alg);
      assert.ok(checkSignature(token, alg, createPublicKey({ key: jwk as never, format: 'jwk' })));
      assert.equal('d' in (jwk ?? {}), false, 'never the private part');
    });
  }

  it('HS256 has no JWKS; a key of the wrong type for the algorithm is refused at start', () => {
    assert.equal(createSigner(connection({ algorithm: 'HS256', hmac_secret: 'x'.repeat(32) })).jwks(), undefined);
    assert.throws(() => createSigner(connection({ algorithm: 'ES256', private_key_file: files.RS256 })), /a rsa key cannot sign ES256/);
    assert.throws(() => createSigner(connection({ algorithm: 'RS256', private_key_file: files.EdDSA })), /a ed25519 key cannot sign RS256/);
  });
});

describe('token mode config', () => {
  const FILE = `${ROOT}/config/test.yaml`;
  const problems = (tokenMode: string, extra = ''): string[] => {
    try {
      parseConfig(`policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv }\n${extra}\ntoken_mode:\n${tokenMode}`, FILE, {});
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems.map((p) => p.replace(`${FILE}: `, ''));
    }
    return [];
  };

  it('off by default; when off nothing is required', () => {
    assert.equal(configSchema.parse({}).token_mode.enabled, false);
    assert.deepEqual(problems('  enabled: false'), []);
  });

  it('on: a key that fits the algorithm, distinct from auth.jwt.hmac_secret; publish needs Centrifugo', () => {
    assert.deepEqual(problems('  enabled: true'), ['token_mode.connection.hmac_secret: HS256 needs it (the same value as Centrifugo\'s client.token.hmac_secret_key)']);
    assert.deepEqual(problems('  enabled: true\n  connection: { hmac_secret: short }'), ['token_mode.connection.hmac_secret: must be at least 32 bytes (256 bits)']);
    const secret = 's'.repeat(40);
    assert.deepEqual(problems(`  enabled: true\n  connection: { hmac_secret: ${secret} }`, `auth: { jwt: { algorithms: [HS256], hmac_secret: ${secret} } }`), [
      'token_mode.connection.hmac_secret: must differ from auth.jwt.hmac_secret',
    ]);
    assert.deepEqual(problems('  enabled: true\n  connection: { algorithm: EdDSA }'), ['token_mode.connection.private_key_file: EdDSA needs a PEM private key']);
    assert.deepEqual(problems(`  enabled: true\n  connection: { algorithm: EdDSA, private_key_file: ${files.EdDSA} }`), []);
    assert.deepEqual(
      problems(`  enabled: true\n  connection: { hmac_secret: ${secret} }\n  publish: { api_keys: [{ key: k-0123456789abcdef, subject: backend }, { key: k-0123456789abcdef, subject: other }] }`),
      [
        'token_mode.publish.centrifugo_url: needed with api_keys',
        "token_mode.publish.centrifugo_api_key: needed with api_keys (Centrifugo's http_api.key)",
        'token_mode.publish.api_keys[1].key: listed twice',
      ],
    );
    assert.deepEqual(problems('  enabled: true\n  publish: { api_keys: [{ key: short, subject: backend }] }').slice(-1), ['token_mode.publish.api_keys[0].key: must be at least 16 bytes']);
    assert.deepEqual(problems('  enabled: true\n  surprise: 1'), ['token_mode.surprise: unknown key']);
  });
});

describe('api keys and rate limit', () => {
  it('every configured key identifies its subject; anything else, nothing', () => {
    const keys = new ApiKeys([
      { key: 'old-0123456789abcdef', subject: 'backend:orders', roles: [] },
      { key: 'new-0123456789abcdef', subject: 'backend:orders', roles: ['role:publisher'] },
    ]);
    assert.deepEqual(keys.identify('old-0123456789abcdef'), { subject: 'backend:orders', roles: [] });
    assert.deepEqual(keys.identify('new-0123456789abcdef'), { subject: 'backend:orders', roles: ['role:publisher'] });
    for (const wrong of ['', undefined, 'old-0123456789abcde', 'old-0123456789abcdef ', 'OLD-0123456789ABCDEF']) assert.equal(keys.identify(wrong), undefined);
    assert.equal(presentedKey({ 'x-api-key': ' k1 ' }), 'k1');
    assert.equal(presentedKey({ authorization: 'apikey k2' }), 'k2');
    assert.equal(presentedKey({ authorization: 'Basic k3' }), undefined);
  });

  it('fixed window per key; requests: 0 turns it off', () => {
    let now = 0;
    const limiter = fixedWindow(2, 60_000, () => now);
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('b')], [true, true, false, true]);
    now = 30_000;
    assert.equal(limiter.retryAfter('a'), 30);
    now = 60_000;
    assert.equal(limiter.take('a'), true);
    const off = fixedWindow(0, 60_000, () => now);
    for (let i = 0; i < 100; i++) assert.equal(off.take('a'), true);
  });
});
