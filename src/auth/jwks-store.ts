/**
 * Remote JWKS with the behaviour an identity-provider outage needs: keys are cached; an
 * unknown `kid` triggers at most one refetch per cooldown; a failed fetch keeps the last good
 * keys (stale is better than locking every user out); concurrent fetches are shared.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput, type CryptoKey } from 'jose';

export interface JwksStoreOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  /** After this age keys are refreshed in the background, never awaited by a request. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
  readonly onFetch?: (ok: boolean) => void;
}

const FIRST_LOAD_RETRY_MS = 1000;

/**
 * The key a token names cannot be had because fetching the key set failed: none was ever loaded,
 * or the token's kid is not among the cached keys and the last fetch failed. Not the token's
 * fault (connect answers a temporary error, so clients retry); an unknown kid in a key set that
 * was fetched fine stays JWKSNoMatchingKey (the token is refused). A JWKSTimeout, so code that
 * only knows jose's errors still reads it as "could not get keys".
 */
export class KeysUnavailable extends errors.JWKSTimeout {}

type KeyGetter = (header: JWSHeaderParameters, input: FlattenedJWSInput) => Promise<CryptoKey>;

export class JwksStore {
  private local: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  /** Whether the most recent fetch failed: then a kid missing from the cached keys may just be new. */
  private lastFetchFailed = false;
  private pending: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: JwksStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  readonly getKey: KeyGetter = async (header, input) => {
    if (!this.local) await this.firstLoad();
    else if (this.now() - this.fetchedAt > this.options.maxAgeMs && this.coolingDownOver()) {
      void this.refresh().catch(() => undefined);
    }
    try {
      return await (this.local as NonNullable<typeof this.local>)(header, input);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A refresh in flight (another miss's, or the background one started above) may bring this kid.
      if (this.pending) await this.pending.catch(() => undefined);
      else if (this.coolingDownOver()) await this.refresh().catch(() => undefined);
      else throw this.missing(err);
      try {
        return await (this.local as NonNullable<typeof this.local>)(header, input);
      } catch (again) {
        throw again instanceof errors.JWKSNoMatchingKey ? this.missing(again) : again;
      }
    }
  };

  /** True while no key set has loaded or the last fetch failed (shown by /readyz). */
  unavailable(): boolean {
    return !this.local || this.lastFetchFailed;
  }

  /** A kid we do not have: the token's fault only if the last fetch worked. */
  private missing(err: Error): Error {
    return this.lastFetchFailed ? new KeysUnavailable(`key not cached and the JWKS fetch failed: ${err.message}`) : err;
  }

  /**
   * Before any key set has ever loaded there is nothing stale to serve. A failed first fetch is
   * retried at most once per second (not once per connect), so an identity provider that is down
   * at start sees a trickle of requests instead of one per reconnecting client.
   */
  private async firstLoad(): Promise<void> {
    if (this.pending) return this.pending;
    if (this.now() - this.attemptedAt < FIRST_LOAD_RETRY_MS) throw new KeysUnavailable('JWKS unavailable (retrying shortly)');
    return this.refresh();
  }

  private coolingDownOver(): boolean {
    return this.now() - this.attemptedAt >= this.options.cooldownMs;
  }

  /** Shared by all callers while in flight; on failure the previous keys stay. */
  refresh(): Promise<void> {
    this.pending ??= this.fetchKeys().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchKeys(): Promise<void> {
    this.attemptedAt = this.now();
    try {
      const response = await fetch(this.options.url, {
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`JWKS endpoint answered ${response.status}`);
      const jwks = (await response.json()) as JSONWebKeySet;
      this.local = createLocalJWKSet(jwks);
      this.fetchedAt = this.now();
      this.lastFetchFailed = false;
      this.options.onFetch?.(true);
    } catch (err) {
      this.lastFetchFailed = true;
      this.options.onFetch?.(false);
      if (!this.local) throw new KeysUnavailable(`JWKS unavailable: ${(err as Error).message}`);
    }
  }
}
