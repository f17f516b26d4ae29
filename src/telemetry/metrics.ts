/**
 * Prometheus metrics on a registry owned by the app (no globals, so tests can build several
 * apps). Names follow Centrifugo's own `centrifugo_proxy_*` style.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram } from './hot-metrics.js';

export class Metrics {
  readonly registry = new Registry();
  /** Recorded per decision: cells resolved once per label set (see hot-metrics.ts). */
  readonly requestDuration: FastHistogram;
  readonly decisions: FastCounter;
  /** In-flight requests by transport: plain numbers, read into the gauge at scrape time. */
  readonly inflightNow: Record<'http' | 'grpc', number> = { http: 0, grpc: 0 };
  readonly inflight: Gauge<'transport'>;
  readonly badRequests: Counter<'transport' | 'reason'>;
  readonly policyInfo: Gauge<'version'>;
  readonly cacheRequests: Counter<'tier' | 'result'>;
  readonly tokenCacheRequests: Counter<'tier' | 'result'>;
  readonly redisErrors: Counter<'operation'>;
  readonly redisBreaker: Gauge<'state'>;
  readonly revocationUnknown: Counter;
  readonly revokedUsers: Gauge;
  readonly policyReloads: Counter<'result'>;
  readonly replicaPolicyMismatch: Gauge;
  readonly candidateDisagreements: Counter<'action' | 'live' | 'candidate'>;
  readonly decisionLogLines: Counter<'decision'>;
  readonly upstreamDuration: Histogram<'route' | 'status'>;
  readonly upstreamBreaker: Gauge<'route' | 'upstream' | 'state'>;
  readonly routeReloads: Counter<'result'>;
  readonly rpcResultMismatches: Counter<'route' | 'action'>;
  readonly jwksFetches: Counter<'result'>;
  readonly refreshFallbacks: Counter<'event' | 'reason'>;
  readonly keysUnavailable: Counter;
  readonly rateLimited: Counter<'action'>;
  readonly grpcConnectionsRefused: Counter<'reason'>;
  readonly rateLimitFailOpen: Counter<'action' | 'reason'>;
  readonly tokenApiRequests: Counter<'endpoint' | 'outcome'>;
  readonly tokenApiDuration: Histogram<'endpoint'>;
  readonly centrifugoApiDuration: Histogram<'method' | 'status'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requestDuration = new FastHistogram(
      'cpp_request_duration_seconds',
      'Time to answer one proxied event.',
      ['event', 'transport', 'decision'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      this.registry,
    );
    this.decisions = new FastCounter(
      'cpp_decisions_total',
      'Answers given, by event, kind (result, error, disconnect) and code.',
      ['event', 'decision', 'code'],
      this.registry,
    );
    const inflightNow = this.inflightNow;
    this.inflight = new Gauge({
      name: 'cpp_inflight_requests',
      help: 'Proxy requests being answered.',
      labelNames: ['transport'],
      registers,
      collect() {
        this.set({ transport: 'http' }, inflightNow.http);
        this.set({ transport: 'grpc' }, inflightNow.grpc);
      },
    });
    this.badRequests = new Counter({
      name: 'cpp_rejected_requests_total',
      help: 'Requests refused before any decision (bad input, caller authentication).',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.policyInfo = new Gauge({ name: 'cpp_policy_info', help: 'The loaded policy version (value 1).', labelNames: ['version'], registers });
    this.grpcConnectionsRefused = new Counter({
      name: 'cpp_grpc_connections_refused_total',
      help: 'GRPC connections closed before reaching grpc-js: over grpc.max_connections, past grpc.handshake_timeout, not HTTP/2, or a failed TLS handshake.',
      labelNames: ['reason'],
      registers,
    });
    this.cacheRequests = new Counter({
      name: 'cpp_cache_requests_total',
      help: 'Decision cache lookups by tier (memory, redis) and result (hit, miss; a Redis failure is a miss).',
      labelNames: ['tier', 'result'],
      registers,
    });
    this.tokenCacheRequests = new Counter({
      name: 'cpp_token_cache_requests_total',
      help: 'Verified-token cache lookups on connect by tier (memory, redis) and result (hit, miss; a miss means a signature check; a Redis failure is a miss).',
      labelNames: ['tier', 'result'],
      registers,
    });
    this.redisErrors = new Counter({
      name: 'cpp_redis_errors_total',
      help: 'Redis calls that failed or timed out (each answered as a cache miss).',
      labelNames: ['operation'],
      registers,
    });
    this.redisBreaker = new Gauge({
      name: 'cpp_redis_breaker_state',
      help: 'Redis circuit breaker: 1 for the current state (closed, open, half_open), 0 for the others.',
      labelNames: ['state'],
      registers,
    });
    for (const state of ['closed', 'open', 'half_open']) this.redisBreaker.set({ state }, state === 'closed' ? 1 : 0);
    this.policyReloads = new Counter({
      name: 'cpp_policy_reloads_total',
      help: 'Policy reloads by result: loaded (new version live), unchanged, failed (the last good policy stays).',
      labelNames: ['result'],
      registers,
    });
    this.replicaPolicyMismatch = new Gauge({
      name: 'cpp_policy_replica_mismatch',
      help: '1 while another replica announced a policy version this one cannot reproduce from its own files.',
      registers,
    });
    this.candidateDisagreements = new Counter({
      name: 'cpp_policy_candidate_disagreements_total',
      help: 'Decisions where the candidate policy (policy.candidate) disagrees with the live one.',
      labelNames: ['action', 'live', 'candidate'],
      registers,
    });
    this.decisionLogLines = new Counter({
      name: 'cpp_decision_log_lines_total',
      help: 'Decision log lines written (every deny, sampled allows).',
      labelNames: ['decision'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'cpp_upstream_duration_seconds',
      help: 'RPC upstream calls by route and outcome (HTTP status, timeout, unreachable, cancelled).',
      labelNames: ['route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.upstreamBreaker = new Gauge({
      name: 'cpp_upstream_breaker_state',
      help: 'RPC circuit breaker per route (method pattern and upstream URL): 1 for the current state (closed, open, half_open).',
      labelNames: ['route', 'upstream', 'state'],
      registers,
    });
    this.rpcResultMismatches = new Counter({
      name: 'cpp_rpc_result_mismatches_total',
      help: "RPC upstream answers that did not match their route's result_schema, by route and what was done (logged, refused).",
      labelNames: ['route', 'action'],
      registers,
    });
    this.routeReloads = new Counter({
      name: 'cpp_rpc_route_reloads_total',
      help: 'Config file changes applied to rpc.routes, by result (loaded, unchanged, failed).',
      labelNames: ['result'],
      registers,
    });
    this.jwksFetches = new Counter({
      name: 'cpp_jwks_fetches_total',
      help: 'Fetches of the remote JWKS (auth.jwt.jwks_url), by result (ok, failed).',
      labelNames: ['result'],
      registers,
    });
    this.refreshFallbacks = new Counter({
      name: 'cpp_refresh_fallback_total',
      help: 'refresh and sub_refresh answered with the auth.failure_extension grace extension because no decision could be made, by event and reason (timeout, error).',
      labelNames: ['event', 'reason'],
      registers,
    });
    this.keysUnavailable = new Counter({
      name: 'cpp_keys_unavailable_total',
      help: 'Connects answered error 503 keys unavailable (temporary): the signing key could not be had because the JWKS fetch failed.',
      registers,
    });
    this.rateLimited = new Counter({
      name: 'cpp_rate_limited_total',
      help: 'Requests refused by rate_limits (error 429 too many requests), by action (connect, publish, rpc).',
      labelNames: ['action'],
      registers,
    });
    this.rateLimitFailOpen = new Counter({
      name: 'cpp_rate_limit_fail_open_total',
      help: 'Requests let through without a rate limit check, by action and reason (redis: Redis unavailable or slow; no_address: connect without the rate_limits.address_header header).',
      labelNames: ['action', 'reason'],
      registers,
    });
    this.revocationUnknown = new Counter({
      name: 'cpp_revocation_unknown_total',
      help: 'Connects and refreshes answered without knowing whether the user is revoked (Redis unavailable and never read).',
      registers,
    });
    this.revokedUsers = new Gauge({
      name: 'cpp_revoked_users',
      help: 'Revoked users in this replica\'s in-memory mirror of the revocation set.',
      registers,
    });
    this.tokenApiRequests = new Counter({
      name: 'cpp_token_api_requests_total',
      help: 'Token mode endpoints (token, subscription_token, publish, broadcast) by outcome: ok, bad_request, unauthorized, forbidden, rate_limited, unavailable, refused, timeout, internal.',
      labelNames: ['endpoint', 'outcome'],
      registers,
    });
    this.tokenApiDuration = new Histogram({
      name: 'cpp_token_api_duration_seconds',
      help: 'Time to answer a token mode endpoint.',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.centrifugoApiDuration = new Histogram({
      name: 'cpp_centrifugo_api_duration_seconds',
      help: 'Calls to Centrifugo\'s HTTP server API (publish, broadcast) by HTTP status, timeout or unreachable; each attempt counts.',
      labelNames: ['method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
