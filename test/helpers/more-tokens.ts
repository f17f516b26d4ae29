/**
 * More token helpers on top of tokens.ts (still node:crypto only, never jose), and a real
 * JWKS endpoint on node:http for tests of remote key sets.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ec, ed, HMAC_SECRET, rsa, signJwt } from './tokens.js';
import type { ConnectRequest } from '../../src/core/messages.js';

/** The RSA public key of tokens.ts as PEM text: what an attacker would try as an HMAC secret. */
export const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;

/** A public key as a JWKS entry. */
export function jwkOf(publicKey: KeyObject, kid: string, alg: string): Record<string, unknown> {
  return { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

export function rs256With(privateKey: KeyObject, kid: string, payload: Record<string, unknown>): string {
  return signJwt({ alg: 'RS256', typ: 'JWT', kid }, payload, { alg: 'RS256', privateKey });
}

export function es256(payload: Record<string, unknown>, kid = 'ec-1'): string {
  return signJwt({ alg: 'ES256', typ: 'JWT', kid }, payload, { alg: 'ES256', privateKey: ec.privateKey });
}

export function eddsa(payload: Record<string, unknown>, kid = 'ed-1'): string {
  return signJwt({ alg: 'EdDSA', typ: 'JWT', kid }, payload, { alg: 'EdDSA', privateKey: ed.privateKey });
}

export function hs256(payload: Record<string, unknown>, secret: string | Buffer = HMAC_SECRET): string {
  return signJwt({ alg: 'HS256', typ: 'JWT' }, payload, { alg: 'HS256', secret });
}

/** Replaces a token's payload and keeps its header and signature. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

export type JwksMode = 'ok' | 'error' | 'hang';

export interface JwksServer {
  readonly url: string;
  /** Requests received so far (answered or not). */
  hits: number;
  /** What the endpoint serves while `mode` is "ok". */
  jwks: unknown;
  /** "error": answer 500; "hang": never answer. */
  mode: JwksMode;
  close(): Promise<void>;
}

/** A JWKS endpoint on 127.0.0.1, port chosen by the OS. */
export async function startJwksServer(jwks: unknown): Promise<JwksServer> {
  const hanging = new Set<ServerResponse>();
  const server = createServer((_req, res) => {
    state.hits++;
    if (state.mode === 'error') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('identity provider down');
    if (state.mode === 'hang') return void hanging.add(res);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: JwksServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    hits: 0,
    jwks,
    mode: 'ok',
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return state;
}

/** A JSON-mode connect request carrying `token` in its data, as the authenticator receives it. */
export function connectWithToken(token: string, client = 'c'): ConnectRequest {
  return {
    client,
    transport: 'websocket',
    protocol: 'json',
    encoding: 'json',
    binary: false,
    headers: new Map(),
    data: { bytes: Buffer.from(JSON.stringify({ token })) },
  };
}
