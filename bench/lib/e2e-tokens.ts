/**
 * Tokens for the end-to-end benchmark, signed in advance with node:crypto (RS256, one key):
 * the service's (kid from a JWKS file, issuer, audience, roles, a name for claims.info) and
 * Centrifugo's own connection tokens for the no-proxy ceiling (the same user, issuer and
 * audience; `info`, `meta` and the personal channel as claims, so Centrifugo does the same work).
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ISSUER = 'https://issuer.bench';
export const AUDIENCE = 'centrifugo-bench';
const KID = 'bench-rsa-1';

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

export interface E2eTokens {
  readonly jwksFile: string;
  readonly publicKeyFile: string;
  readonly publicKeyPem: string;
  /** One token per user `user-<i>`, for our service (and the naive peer). */
  readonly service: readonly string[];
  /** The same users' Centrifugo connection tokens. */
  readonly centrifugo: readonly string[];
}

export function signE2eTokens(dir: string, count: number): E2eTokens {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const publicKeyFile = join(dir, 'e2e-public.pem');
  writeFileSync(publicKeyFile, publicKeyPem);
  const jwksFile = join(dir, 'e2e-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...keys.publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] }));
  const sign = (header: object, payload: object) => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(createSign('RSA-SHA256').update(input).sign(keys.privateKey))}`;
  };
  const iat = Math.floor(Date.now() / 1000);
  const common = { iss: ISSUER, aud: AUDIENCE, iat, exp: iat + 6 * 3600 };
  const service: string[] = [];
  const centrifugo: string[] = [];
  for (let i = 0; i < count; i++) {
    const sub = `user-${i}`;
    const name = `User ${i}`;
    service.push(sign({ alg: 'RS256', typ: 'JWT', kid: KID }, { sub, ...common, roles: ['role:member'], name }));
    centrifugo.push(sign({ alg: 'RS256', typ: 'JWT' }, { sub, ...common, info: { name }, meta: { roles: ['role:member'] }, channels: [`personal:${sub}`] }));
  }
  return { jwksFile, publicKeyFile, publicKeyPem, service, centrifugo };
}
