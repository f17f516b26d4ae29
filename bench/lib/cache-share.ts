/**
 * The cache hit share of a bench row, read from the served process's own counters: "cached" and
 * "uncached" rows are only so by how their workload is built, so each row declares the share it
 * expects and the row fails (like a row with wrong answers) when the counters say otherwise.
 * Counters: cpp_cache_requests_total (decision cache) and cpp_token_cache_requests_total
 * (verified tokens), both by tier (memory, redis) and result (hit, miss), scraped from /metrics
 * before and after the measured run.
 */

/** One cache's lookups: every lookup asks memory; a memory miss asks Redis when there is one. */
export interface TierCounts {
  readonly memoryHit: number;
  readonly memoryMiss: number;
  readonly redisHit: number;
  readonly redisMiss: number;
}

export interface CacheCounts {
  readonly decisions: TierCounts;
  readonly tokens: TierCounts;
  /** Proxy requests being answered (cpp_inflight_requests, both transports). */
  readonly inflight: number;
}

/** Shares of lookups, each NaN when the row made no lookup of that cache. */
export interface CacheShares {
  readonly decisionLookups: number;
  /** Decisions answered from the in-process tier, from Redis, and computed (neither). */
  readonly memory: number;
  readonly redis: number;
  readonly miss: number;
  readonly tokenLookups: number;
  /** Connects whose token was known verified (either tier): no signature check. */
  readonly tokenHit: number;
}

export type ShareName = 'memory' | 'redis' | 'miss' | 'tokenHit';

/** What a row's workload implies: each named share within [min, max]. */
export interface ShareBound {
  readonly share: ShareName;
  readonly min?: number;
  readonly max?: number;
}

export interface CacheCheck {
  /** Every measured share, for the report's "cache hits" column. */
  readonly text: string;
  /** The first share outside its bound (the row then fails), or undefined. */
  readonly failure?: string;
  /** The first bound's share alone (for compact per-round columns). */
  readonly headline: string;
}

const DECISIONS = 'cpp_cache_requests_total';
const TOKENS = 'cpp_token_cache_requests_total';
const INFLIGHT = 'cpp_inflight_requests';
const LABELS: Record<ShareName, string> = { memory: 'memory', redis: 'Redis', miss: 'computed', tokenHit: 'token hits' };

export const atLeast = (share: ShareName, min: number): ShareBound => ({ share, min });
export const atMost = (share: ShareName, max: number): ShareBound => ({ share, max });

/** The two counters out of Prometheus text; an absent series is 0 (prom-client omits unused label sets). */
export function parseCacheCounts(text: string): CacheCounts {
  const values = new Map<string, number>();
  let inflight = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match || (match[1] !== DECISIONS && match[1] !== TOKENS && match[1] !== INFLIGHT)) continue;
    const labels = new Map([...(match[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
    const value = Number(match[3]);
    if (!Number.isFinite(value)) throw new Error(`unreadable counter: ${line}`);
    if (match[1] === INFLIGHT) inflight += value;
    else values.set(`${match[1]} ${labels.get('tier')} ${labels.get('result')}`, value);
  }
  const tiers = (name: string): TierCounts => {
    const at = (tier: string, result: string) => values.get(`${name} ${tier} ${result}`) ?? 0;
    return { memoryHit: at('memory', 'hit'), memoryMiss: at('memory', 'miss'), redisHit: at('redis', 'hit'), redisMiss: at('redis', 'miss') };
  };
  return { decisions: tiers(DECISIONS), tokens: tiers(TOKENS), inflight };
}

function delta(before: TierCounts, after: TierCounts): TierCounts {
  const d = (key: keyof TierCounts) => {
    const value = after[key] - before[key];
    if (value < 0) throw new Error(`cache counter ${key} went down (${before[key]} → ${after[key]}): not the same process`);
    return value;
  };
  return { memoryHit: d('memoryHit'), memoryMiss: d('memoryMiss'), redisHit: d('redisHit'), redisMiss: d('redisMiss') };
}

/** The shares of the lookups made between two scrapes of the same process. */
export function cacheShares(before: CacheCounts, after: CacheCounts): CacheShares {
  const decisions = delta(before.decisions, after.decisions);
  const tokens = delta(before.tokens, after.tokens);
  const decisionLookups = decisions.memoryHit + decisions.memoryMiss;
  const tokenLookups = tokens.memoryHit + tokens.memoryMiss;
  // A memory miss that Redis does not answer is computed (or joins an identical lookup under way).
  return {
    decisionLookups,
    memory: decisions.memoryHit / decisionLookups,
    redis: decisions.redisHit / decisionLookups,
    miss: (decisions.memoryMiss - decisions.redisHit) / decisionLookups,
    tokenLookups,
    tokenHit: (tokens.memoryHit + tokens.redisHit) / tokenLookups,
  };
}

const pct = (share: number) => (Number.isNaN(share) ? '–' : `${(share * 100).toFixed(1)}%`);
const lookupsOf = (shares: CacheShares, name: ShareName) => (name === 'tokenHit' ? shares.tokenLookups : shares.decisionLookups);

/** The measured shares against the bounds: text for the report, and the first violation. */
export function checkShares(shares: CacheShares, bounds: readonly ShareBound[]): CacheCheck {
  const parts: string[] = [];
  if (shares.decisionLookups > 0) parts.push(`decisions ${pct(shares.memory)} memory, ${pct(shares.redis)} Redis, ${pct(shares.miss)} computed`);
  if (shares.tokenLookups > 0) parts.push(`tokens ${pct(shares.tokenHit)} hit`);
  let failure: string | undefined;
  for (const bound of bounds) {
    const value = shares[bound.share];
    const wanted = [bound.min !== undefined ? `≥ ${pct(bound.min)}` : '', bound.max !== undefined ? `≤ ${pct(bound.max)}` : ''].filter(Boolean).join(' and ');
    // No lookup at all measured nothing of the cache: as wrong as a share out of bounds.
    const wrong = lookupsOf(shares, bound.share) === 0 || (bound.min !== undefined && !(value >= bound.min)) || (bound.max !== undefined && !(value <= bound.max));
    if (wrong) {
      failure = `${LABELS[bound.share]} ${pct(value)}, expected ${wanted} (${lookupsOf(shares, bound.share)} lookups)`;
      break;
    }
  }
  const first = bounds[0];
  const headline = first ? `${pct(shares[first.share])} ${LABELS[first.share]}` : '–';
  return { text: parts.length > 0 ? parts.join('; ') : 'no cache lookups', headline, ...(failure ? { failure } : {}) };
}

/** The served process's counters now (its /metrics on the proxy port, as the bench configs leave it). */
export async function scrapeCacheCounts(port: number): Promise<CacheCounts> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseCacheCounts(await res.text());
}

const sameCounts = (a: CacheCounts, b: CacheCounts) => JSON.stringify([a.decisions, a.tokens]) === JSON.stringify([b.decisions, b.tokens]);

/**
 * The counters once the process has answered everything sent to it: nothing in flight and no
 * lookup between two scrapes. A load generator stops at its deadline, but an overloaded server
 * still answers the requests queued by then; read too early, that tail would count in the next
 * row (seen: the cached row's repeated channel as 5% memory hits of the uncached row after it).
 */
export async function settledCacheCounts(port: number, timeoutMs = 15_000): Promise<CacheCounts> {
  const deadline = Date.now() + timeoutMs;
  let last = await scrapeCacheCounts(port);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await scrapeCacheCounts(port);
    if ((now.inflight === 0 && sameCounts(now, last)) || Date.now() > deadline) return now;
    last = now;
  }
}

/**
 * Runs `run` between two settled scrapes of the process on `port` and checks its shares against
 * `bounds`; without a port or bounds (a floor, a peer without these counters) no cache check.
 */
export async function withCacheCheck<T extends object>(port: number | undefined, bounds: readonly ShareBound[] | undefined, run: () => Promise<T>): Promise<T & { cache?: CacheCheck }> {
  if (port === undefined || !bounds) return run();
  const before = await settledCacheCounts(port);
  const result = await run();
  const cache = checkShares(cacheShares(before, await settledCacheCounts(port)), bounds);
  return { ...result, cache };
}

/** The console/report mark of a cache check: its shares, and FAILED with the reason when out of bounds. */
export function cacheCell(check: CacheCheck | undefined): string {
  if (!check) return '–';
  return check.failure ? `✗ FAILED: ${check.failure} (${check.text})` : check.text;
}
