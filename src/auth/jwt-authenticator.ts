/**
 * Connect authentication with JWTs verified by jose. Algorithms come only from the config's
 * allow-list (never `none`; HS* only with an HMAC secret, and then only against that secret,
 * so a public key can never be used as an HMAC secret). Verified tokens are cached by their
 * SHA-256 until `exp`: reconnect storms reuse tokens and must not pay for signatures again.
 */
import { createHash, createPublicKey, hash, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { CacheCounters } from '../cache/decision-cache.js';
import type { RedisStore } from '../cache/redis-store.js';
import { inSpan, type TraceContext } from '../telemetry/tracing.js';
import type { Config } from '../config/schema.js';
import type { ConnectRequest, JsonValue } from '../core/messages.js';
import type { AuthOutcome, Authenticator, Identity } from './authenticator.js';
import { JwksStore, KeysUnavailable } from './jwks-store.js';
import { TieredVerifiedTokens, type VerifiedTokens } from './verified-tokens.js';
import { findToken, parseTokenSource, type TokenSource } from './token-sources.js';

type AuthConfig = Config['auth'];

/** How long a verified token without exp stays cached (a key rotation or revocation of the key then applies). */
const NO_EXP_CACHE_MS = 5 * 60_000;

/** Reads a claim by a dotted path ("realm_access.roles"). */
function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function mapClaims(payload: JWTPayload, claims: AuthConfig['claims']): Identity | undefined {
  const user = claimAt(payload, claims.user);
  if (typeof user !== 'string' || user === '') return undefined;
  const rawRoles = claims.roles === '' ? undefined : claimAt(payload, claims.roles);
  const roles = Array.isArray(rawRoles)
    ? rawRoles.filter((r): r is string => typeof r === 'string' && r !== '')
    : typeof rawRoles === 'string' && rawRoles !== ''
      ? rawRoles.split(/[\s,]+/).filter(Boolean)
      : [];
  const info: Record<string, JsonValue> = {};
  for (const name of claims.info) {
    const value = claimAt(payload, name);
    if (value !== undefined) info[name] = value as JsonValue;
  }
  return {
    user,
    roles,
    ...(typeof payload.exp === 'number' ? { expireAt: payload.exp } : {}),
    ...(claims.info.length > 0 ? { info } : {}),
  };
}

interface KeySources {
  readonly hmac?: Uint8Array;
  readonly asymmetric?: JWTVerifyGetKey | KeyObject;
  /** The remote key set, when keys come from jwks_url. */
  readonly remote?: JwksStore;
}

function keySources(jwt: AuthConfig['jwt'], now: () => number, onJwksFetch?: (ok: boolean) => void, keyWaitMs?: number): KeySources {
  const hmac = jwt.hmac_secret === '' ? undefined : new TextEncoder().encode(jwt.hmac_secret);
  let asymmetric: KeySources['asymmetric'];
  let remote: JwksStore | undefined;
  if (jwt.jwks_url !== '') {
    remote = new JwksStore({
      url: jwt.jwks_url,
      timeoutMs: jwt.jwks_timeout,
      waitMs: keyWaitMs,
      cooldownMs: 30_000,
      maxAgeMs: 10 * 60_000,
      now,
      onFetch: onJwksFetch,
    });
    asymmetric = remote.getKey;
  } else if (jwt.jwks_file !== '') {
    asymmetric = createLocalJWKSet(JSON.parse(readFileSync(jwt.jwks_file, 'utf8')));
  } else if (jwt.public_key_file !== '') {
    asymmetric = createPublicKey(readFileSync(jwt.public_key_file));
  }
  return { hmac, asymmetric, remote };
}

/** Changes whenever anything that decides whether a token is valid, or what it maps to, changes. */
function settingsFingerprint(auth: AuthConfig): string {
  const keyMaterial = [auth.jwt.jwks_url, auth.jwt.jwks_file, auth.jwt.public_key_file]
    .map((source) => (source !== '' && !source.includes('://') ? readFileSync(source, 'utf8') : source))
    .join('\n');
  const settings = JSON.stringify([auth.jwt.algorithms, auth.jwt.issuer, auth.jwt.audience, auth.jwt.hmac_secret, auth.jwt.require_exp, auth.claims, keyMaterial]);
  return createHash('sha256').update(settings).digest('hex').slice(0, 16);
}

export class JwtAuthenticator implements Authenticator {
  private readonly sources: readonly TokenSource[];
  private readonly keys: KeySources;
  private readonly verified: VerifiedTokens;

  constructor(
    private readonly auth: AuthConfig,
    private readonly now: () => number = Date.now,
    onJwksFetch?: (ok: boolean) => void,
    redis?: RedisStore,
    /** How long a connect waits for the remote key set (see JwksStore's waitMs); unset: for the whole fetch. */
    keyWaitMs?: number,
    /** Verified-token cache lookups (cpp_token_cache_requests_total). */
    tokenCounters?: CacheCounters,
  ) {
    this.sources = auth.token_sources.map(parseTokenSource);
    this.keys = keySources(auth.jwt, now, onJwksFetch, keyWaitMs);
    this.verified = new TieredVerifiedTokens(settingsFingerprint(auth), redis, tokenCounters);
  }

  /** Starts loading remote keys (jwks_url) in the background; nothing to do for local keys. */
  start(): void {
    this.keys.remote?.start();
  }

  stop(): void {
    this.keys.remote?.stop();
  }

  /** Why connects cannot be verified yet (readiness), or undefined: only before remote keys first load. */
  notReadyReason(): string | undefined {
    return this.keys.remote && !this.keys.remote.loaded() ? 'signing keys not loaded yet' : undefined;
  }

  /** True while keys come from jwks_url and none loaded yet or the last fetch failed (for /readyz). */
  keysUnavailable(): boolean {
    return this.keys.remote?.unavailable() ?? false;
  }

  async authenticate(request: ConnectRequest, trace?: TraceContext): Promise<AuthOutcome> {
    const token = findToken(this.sources, request);
    if (token === undefined) return { kind: 'no_token' };
    if (Buffer.byteLength(token) > this.auth.jwt.max_token_bytes) return { kind: 'invalid', reason: 'token too large' };
    const digest = hash('sha256', token, 'base64');
    const known = this.stillValid(await this.verified.get(digest, trace));
    if (known) return { kind: 'authenticated', identity: known };
    return trace ? inSpan(trace, 'jwt.verify', () => this.verify(token, digest)) : this.verify(token, digest);
  }

  authenticateNow(request: ConnectRequest): Identity | undefined {
    const token = findToken(this.sources, request);
    // Only a token the memory tier holds: anything else (no token, too large, a miss) takes authenticate().
    if (token === undefined || Buffer.byteLength(token) > this.auth.jwt.max_token_bytes) return undefined;
    return this.stillValid(this.verified.peek?.(hash('sha256', token, 'base64')));
  }

  /**
   * A cached identity as the answer uses it, or undefined when it no longer counts. The cache's
   * TTL runs on its own timer; `exp` is judged on this authenticator's clock. An entry without
   * exp (require_exp off) is only ever cached for a bounded time.
   */
  private stillValid(known: Identity | undefined): Identity | undefined {
    if (!known) return undefined;
    if (known.expireAt !== undefined) return known.expireAt * 1000 > this.now() ? known : undefined;
    return this.auth.jwt.require_exp ? undefined : this.bounded(known);
  }

  /** A token without exp (allowed by require_exp: false) gets a connection of at most max_lifetime; refresh re-checks after it. */
  private bounded(identity: Identity): Identity {
    return { ...identity, expireAt: Math.floor((this.now() + this.auth.jwt.max_lifetime) / 1000) };
  }

  private async verify(token: string, digest: string): Promise<AuthOutcome> {
    const { jwt } = this.auth;
    const getKey: JWTVerifyGetKey = async (header, input) => {
      if (header.alg?.startsWith('HS')) {
        if (!this.keys.hmac) throw new errors.JOSEAlgNotAllowed('HMAC algorithms need auth.jwt.hmac_secret');
        return this.keys.hmac;
      }
      const key = this.keys.asymmetric;
      if (!key) throw new errors.JWKSNoMatchingKey('no public key configured');
      return typeof key === 'function' ? key(header, input) : key;
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: [...jwt.algorithms],
        ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
        ...(jwt.audience ? { audience: jwt.audience } : {}),
        clockTolerance: Math.round(jwt.clock_tolerance / 1000),
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { kind: 'expired' };
      if (err instanceof KeysUnavailable) return { kind: 'keys_unavailable' };
      // jose's messages name the failing check ('unexpected "aud" claim value', 'signature
      // verification failed'), never the token's values: safe to log, and an operator reads words.
      const { code, message } = err as { code?: string; message?: string };
      return { kind: 'invalid', reason: message ? `${message}${code ? ` (${code})` : ''}` : (code ?? (err as Error).name) };
    }
    const identity = mapClaims(payload, this.auth.claims);
    if (!identity) return { kind: 'invalid', reason: `claim "${this.auth.claims.user}" missing or not a string` };
    if (identity.expireAt === undefined) {
      // Valid forever by its own terms: refused unless config says otherwise, and then never cached for long.
      if (jwt.require_exp) return { kind: 'invalid', reason: 'token without exp (auth.jwt.require_exp)' };
      this.verified.set(digest, identity, Math.min(jwt.max_lifetime, NO_EXP_CACHE_MS));
      return { kind: 'authenticated', identity: this.bounded(identity) };
    }
    const ttl = identity.expireAt * 1000 - this.now();
    if (ttl > 0) this.verified.set(digest, identity, ttl);
    return { kind: 'authenticated', identity };
  }
}
