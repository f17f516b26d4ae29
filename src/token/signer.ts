/**
 * Signs Centrifugo connection and subscription JWTs with the key Centrifugo's `client.token`
 * verifies: an HMAC secret (hmac_secret_key), an RSA or ECDSA private key (rsa_public_key /
 * ecdsa_public_key hold its public half) or an Ed25519 key (Centrifugo checks EdDSA only
 * through jwks_public_endpoint, which GET /api/token/jwks can serve).
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, type JWTPayload } from 'jose';
import type { Config } from '../config/schema.js';

type ConnectionKeyConfig = Config['token_mode']['connection'];

export interface TokenSigner {
  readonly algorithm: string;
  sign(claims: JWTPayload): Promise<string>;
  /** The public key as a JWK set (asymmetric keys only), for Centrifugo's jwks_public_endpoint. */
  jwks(): { keys: Record<string, unknown>[] } | undefined;
}

const EXPECTED_KEY: Record<string, { type: string; curve?: string }> = {
  RS256: { type: 'rsa' },
  ES256: { type: 'ec', curve: 'prime256v1' },
  EdDSA: { type: 'ed25519' },
};

function privateKey(config: ConnectionKeyConfig): KeyObject {
  const key = createPrivateKey(readFileSync(config.private_key_file));
  const expected = EXPECTED_KEY[config.algorithm];
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (!expected || key.asymmetricKeyType !== expected.type || (expected.curve && curve !== expected.curve)) {
    const found = `${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}`;
    throw new Error(`token_mode.connection.private_key_file: a ${found} key cannot sign ${config.algorithm}`);
  }
  return key;
}

export function createSigner(config: ConnectionKeyConfig): TokenSigner {
  const key = config.algorithm === 'HS256' ? createSecretKey(Buffer.from(config.hmac_secret)) : privateKey(config);
  const header = { alg: config.algorithm, typ: 'JWT', ...(config.key_id ? { kid: config.key_id } : {}) };
  const publicJwk =
    config.algorithm === 'HS256'
      ? undefined
      : {
          ...createPublicKey(key).export({ format: 'jwk' }),
          alg: config.algorithm,
          use: 'sig',
          ...(config.key_id ? { kid: config.key_id } : {}),
        };
  return {
    algorithm: config.algorithm,
    sign: (claims) => new SignJWT(claims).setProtectedHeader(header).sign(key),
    jwks: () => (publicJwk ? { keys: [publicJwk] } : undefined),
  };
}
