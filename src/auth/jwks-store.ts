/**
 * Remote JWKS with the behaviour an identity-provider outage needs: keys are cached; an
 * unknown `kid` triggers at most one refetch per cooldown; a failed fetch keeps the last good
 * keys (stale is better than locking every user out); concurrent fetches are shared.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput, type CryptoKey } from 'jose';

export interface JwksStoreOptions {
  readonly url: string;
  /** One fetch's own bound; it runs on in the background when a request stops waiting for it. */
  readonly timeoutMs: number;
  /**
   * How long a request waits for a fetch in flight before answering "keys unavailable"
   * (temporary): below the decision deadline, so a slow identity provider never turns into a
   * timed-out decision. Unset: requests wait for the fetch.
   */
  readonly waitMs?: number;
  readonly cooldownMs: number;
  /** After this age keys are refreshed in the background, never awaited by a request. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
  readonly onFetch?: (ok: boolean) => void;
}

const FIRST_LOAD_RETRY_MS = 1000;
/** Background retries of a failed first load back off to this. */
const FIRST_LOAD_RETRY_MAX_MS = 15_000;

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
  private retryTimer: NodeJS.Timeout | undefined;
  private inflight: AbortController | undefined;
  private stopped = false;

  constructor(private readonly options: JwksStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  readonly getKey: KeyGetter = async (header, input) => {
    if (!this.local) await this.bounded(this.firstLoad());
    else if (this.now() - this.fetchedAt > this.options.maxAgeMs && this.coolingDownOver()) {
      void this.refresh().catch(() => undefined);
    }
    try {
      return await (this.local as NonNullable<typeof this.local>)(header, input);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A refresh in flight (another miss's, or the background one started above) may bring this kid.
      if (this.pending) await this.bounded(this.pending.catch(() => undefined));
      else if (this.coolingDownOver()) await this.bounded(this.refresh().catch(() => undefined));
      else throw this.missing(err);
      try {
        return await (this.local as NonNullable<typeof this.local>)(header, input);
      } catch (again) {
        throw again instanceof errors.JWKSNoMatchingKey ? this.missing(again) : again;
      }
    }
  };

  /**
   * Starts loading the key set at startup, without waiting: until it loads the service reports
   * not ready. A failed first load is retried in the background, backing off, until one works.
   */
  start(): void {
    this.stopped = false;
    const attempt = (delayMs: number) => {
      void this.refresh()
        .catch(() => undefined)
        .then(() => {
          if (this.local || this.stopped) return;
          this.retryTimer = setTimeout(() => attempt(Math.min(delayMs * 2, FIRST_LOAD_RETRY_MAX_MS)), delayMs);
          this.retryTimer.unref();
        });
    };
    attempt(FIRST_LOAD_RETRY_MS);
  }

  /** Ends background retries and a fetch in flight. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.inflight?.abort(new Error('stopped'));
  }

  /** Whether a key set has ever loaded (readiness). */
  loaded(): boolean {
    return this.local !== undefined;
  }

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

  /**
   * Waits for `work` at most waitMs; then the request gets "keys unavailable" (temporary) while
   * the fetch carries on, so the next request finds the keys.
   */
  private async bounded<T>(work: Promise<T>): Promise<T> {
    const waitMs = this.options.waitMs;
    if (waitMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KeysUnavailable(`JWKS fetch still in flight after ${waitMs} ms`)), waitMs);
    });
    try {
      return await Promise.race([work, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
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
    // Our own controller and timer (not AbortSignal.timeout): stop() ends the fetch with it too,
    // and a timer we hold cannot be collected before it fires (issue 14, finding 1).
    const abort = new AbortController();
    this.inflight = abort;
    const timer = setTimeout(() => abort.abort(new Error(`JWKS fetch timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    try {
      const response = await fetch(this.options.url, {
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: abort.signal,
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
    } finally {
      clearTimeout(timer);
      if (this.inflight === abort) this.inflight = undefined;
    }
  }
}
