/**
 * JWTs signed with node:crypto, independently of jose, so the service's jose-based
 * verification is not checked against itself.
 */
import { createHmac, createSign, generateKeyPairSync, sign as edSign, type KeyObject } from 'node:crypto';

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: { alg: string; secret?: string | Buffer; privateKey?: KeyObject }): string {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  let signature: Buffer;
  switch (key.alg) {
    case 'none':
      signature = Buffer.alloc(0);
      break;
    case 'HS256':
      signature = createHmac('sha256', key.secret as string | Buffer).update(signingInput).digest();
      break;
    case 'RS256':
      signature = createSign('RSA-SHA256').update(signingInput).sign(key.privateKey as KeyObject);
      break;
    case 'ES256':
      signature = createSign('SHA256').update(signingInput).sign({ key: key.privateKey as KeyObject, dsaEncoding: 'ieee-p1363' });
      break;
    case 'EdDSA':
      signature = edSign(null, Buffer.from(signingInput), key.privateKey as KeyObject);
      break;
    default:
      throw new Error(`unsupported alg ${key.alg}`);
  }
  return `${signingInput}.${b64url(signature)}`;
}

export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const ed = generateKeyPairSync('ed25519');

export const HMAC_SECRET = 'test-hmac-secret-with-at-least-32-bytes!';

export function jwks(): { keys: Record<string, unknown>[] } {
  return {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
    ],
  };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function rs256(payload: Record<string, unknown>, kid = 'rsa-1'): string {
  return signJwt({ alg: 'RS256', typ: 'JWT', kid }, payload, { alg: 'RS256', privateKey: rsa.privateKey });
}
