/**
 * Composition root: builds every dependency once from the config. Tests call it with
 * overrides (clock, logger, ports 0) and get the same wiring as production.
 */
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { AppState } from './app-state.js';
import { createAdminServer } from './admin/admin-server.js';
import type { Authenticator } from './auth/authenticator.js';
import { JwtAuthenticator } from './auth/jwt-authenticator.js';
import { TieredDecisionCache, type DecisionCache } from './cache/decision-cache.js';
import { createRedis } from './cache/redis-connection.js';
import { RedisStore } from './cache/redis-store.js';
import { noRevocations, RedisRevocations, type RevocationList } from './auth/revocations.js';
import { callerSecrets, type Config } from './config/schema.js';
import { EVENTS, type EventName } from './core/events.js';
import { failureAnswerFor } from './core/failure-answers.js';
import { instrument } from './core/instrument.js';
import type { HandlerDeps } from './handlers/handler.js';
import { createHandlers } from './handlers/registry.js';
import { PolicyDecider, type Decider } from './policy/decider.js';
import { PolicyStore } from './policy/policy-store.js';
import { DecisionLog } from './policy/decision-log.js';
import { ReplicaSync } from './policy/replica-sync.js';
import { HttpRpcForwarder } from './rpc/forwarder.js';
import { RouteReloader } from './rpc/route-reloader.js';
import { createLogger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { callerCheck } from './transport/caller-auth.js';
import type { Dispatcher } from './transport/dispatcher.js';
import { drainAll } from './transport/drain.js';
import { GrpcListener } from './transport/grpc/listener.js';
import { createGrpcServer, grpcDrainable } from './transport/grpc/server.js';
import { SERVICE_NAME } from './transport/grpc/proto.js';
import { createHttpServer } from './transport/http/server.js';
import { startupSummary } from './telemetry/startup-summary.js';
import { ThrottledLog } from './telemetry/throttled-log.js';
import { channelTemplateWarnings, firstRunWarnings } from './config/first-run.js';
import { ListenError } from './core/listen-error.js';
import { buildTokenMode } from './token/build.js';
import { buildPolicyPage } from './admin/policy-page/policy-page.js';
import { buildRateLimits } from './ratelimit/build.js';

export interface AppOverrides {
  readonly log?: Logger;
  readonly now?: () => number;
  readonly authenticator?: Authenticator;
  readonly cache?: DecisionCache;
  /** Replaces the Redis store built from cache.redis_url (tests point it at a throwaway server). */
  readonly redis?: RedisStore;
  /** The config file, watched for rpc.routes changes when rpc.watch is on. */
  readonly configFile?: string;
  readonly metrics?: Metrics;
  /** Replaces the policy decider (tests make it hang or throw). */
  readonly decider?: Decider;
  /** Replaces the revocation list built from cache.redis_url. */
  readonly revocations?: RevocationList;
}

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly state: AppState;
  readonly policy: PolicyStore;
  /** Loads the policy and listens; resolves with the bound ports. */
  start(): Promise<{ httpPort: number; grpcPort?: number; adminPort?: number; policyPagePort?: number }>;
  /** Stops accepting, lets in-flight requests finish (up to server.drain_timeout), closes clients. */
  stop(): Promise<void>;
}

export function buildApp(config: Config, overrides: AppOverrides = {}): App {
  const log = overrides.log ?? createLogger(config.log.level);
  const metrics = overrides.metrics ?? new Metrics();
  const now = overrides.now ?? Date.now;
  const policy = new PolicyStore(config.policy, log);
  // A candidate directory holds model.conf and *.csv; it is never tested or enforced, only compared.
  const candidate =
    config.policy.candidate === ''
      ? undefined
      : new PolicyStore(
          { model: join(config.policy.candidate, 'model.conf'), policy: config.policy.candidate, role_prefixes: config.policy.role_prefixes },
          log.child({ policy: 'candidate' }),
        );
  const redis = overrides.redis ?? openRedis(config, log, metrics);
  const policyPage = buildPolicyPage({ config, policy, candidate, log: log.child({ component: 'policy_page' }), now });
  const jwtAuthenticator = overrides.authenticator
    ? undefined
    : new JwtAuthenticator(
        config.auth,
        now,
        (ok) => {
          metrics.jwksFetches.inc({ result: ok ? 'ok' : 'failed' });
          syncHealth();
        },
        redis,
        // The rest of the decision (signature, policy, cache) needs the last third.
        Math.floor((config.server.decision_timeout * 2) / 3),
        { count: (tier, result) => metrics.tokenCacheRequests.inc({ tier, result }) },
      );
  const state = new AppState(config.grpc.enabled, () => policy.loaded(), () => ({
    policy_version: policy.loaded() ? policy.current().version : undefined,
    last_reload_error: policy.lastFailure(),
    // A failed refresh after keys once loaded is shown, never a reason to be unready: every
    // replica shares the identity provider, and pulling them all out of service would fail
    // refresh, subscribe and the rest as well (cached keys keep serving).
    ...(jwtAuthenticator?.keysUnavailable() ? { signing_keys: 'unavailable' } : {}),
  }));
  // Before the first key set loads, though, this replica can verify nobody: not ready yet.
  if (jwtAuthenticator) state.require(() => jwtAuthenticator.notReadyReason());
  const cache =
    overrides.cache ??
    new TieredDecisionCache({
      maxEntries: config.cache.max_entries,
      ttlMs: config.cache.ttl,
      redis,
      counters: { count: (tier, result) => metrics.cacheRequests.inc({ tier, result }) },
    });
  const rpc = new HttpRpcForwarder(config.rpc.routes, config.codes, config.rpc.breaker, {
    onUpstream: (route, status, seconds) => metrics.upstreamDuration.observe({ route, status }, seconds),
    onResultMismatch: (route, action) => metrics.rpcResultMismatches.inc({ route, action }),
    onBreaker: (route, upstream, state) => {
      for (const s of ['closed', 'open', 'half_open']) metrics.upstreamBreaker.set({ route, upstream, state: s }, s === state ? 1 : 0);
      log.warn({ route, upstream, state }, 'rpc route breaker changed state');
    },
  });
  const routes = overrides.configFile
    ? new RouteReloader(overrides.configFile, config, rpc, log.child({ component: 'rpc_routes' }), (result) => metrics.routeReloads.inc({ result }))
    : undefined;
  // Pub/sub (policy announcements, revocation notices) needs a URL to open its own connection.
  const sharedRedis = redis && config.cache.redis_url !== '' ? redis : undefined;
  const revocations = sharedRedis
    ? new RedisRevocations(sharedRedis, {
        redisUrl: config.cache.redis_url,
        resyncMs: config.auth.revocation_resync,
        log: log.child({ component: 'revocations' }),
        now,
        onUnknown: () => metrics.revocationUnknown.inc(),
        onCount: (count) => metrics.revokedUsers.set(count),
      })
    : undefined;
  const deps: HandlerDeps = {
    config,
    decider: overrides.decider ?? new PolicyDecider(policy, cache, {
      mode: config.policy.mode,
      candidate,
      decisionLog: new DecisionLog(log.child({ component: 'decision_log' }), config.policy.decision_log.allow_sample, (decision) =>
        metrics.decisionLogLines.inc({ decision }),
      ),
      onDisagreement: (query, live, other, candidateVersion) => {
        metrics.candidateDisagreements.inc({ action: query.action, live: live ? 'allow' : 'deny', candidate: other ? 'allow' : 'deny' });
        log.warn(
          {
            user: query.user,
            roles: query.roles,
            action: query.action,
            object: query.object,
            live: live ? 'allow' : 'deny',
            candidate: other ? 'allow' : 'deny',
            policy_version: policy.current().version,
            candidate_version: candidateVersion,
          },
          'candidate policy disagrees',
        );
        policyPage?.recordDisagreement(query, live, other, { live: policy.current().version, candidate: candidateVersion });
      },
    }),
    authenticator: overrides.authenticator ?? (jwtAuthenticator as JwtAuthenticator),
    onKeysUnavailable: () => metrics.keysUnavailable.inc(),
    revocations: overrides.revocations ?? revocations ?? noRevocations,
    rpc,
    limits: buildRateLimits(config, { redis, metrics, now }),
    now,
  };
  policy.onReload((outcome) => metrics.policyReloads.inc({ result: outcome.result }));
  policy.onChange((engine) => {
    metrics.policyInfo.reset();
    metrics.policyInfo.set({ version: engine.version }, 1);
  });

  const replicas = sharedRedis
    ? new ReplicaSync(policy, sharedRedis, config.cache.redis_url, log.child({ component: 'policy_sync' }), (mismatch) =>
        metrics.replicaPolicyMismatch.set(mismatch ? 1 : 0),
      )
    : undefined;

  const handlers = createHandlers(deps);
  const instrumentDeps = {
    log,
    metrics,
    failureAnswer: (event: EventName) => failureAnswerFor(event, { codes: config.codes, extensionMs: config.auth.failure_extension, now }),
    timeoutMs: (event: EventName) => (event === 'rpc' ? undefined : config.server.decision_timeout),
    includeUser: config.telemetry.include_user,
  };
  const dispatcher = Object.fromEntries(
    EVENTS.map((event) => [event, instrument(event, handlers[event] as never, instrumentDeps)]),
  ) as unknown as Dispatcher;

  const tokenMode = buildTokenMode({ config, authenticator: deps.authenticator, decider: deps.decider, revocations: deps.revocations, metrics, log, now });

  const callerOk = callerCheck(config.caller_auth.secret);
  const callerHeader = config.caller_auth.header;
  const refusals = new ThrottledLog(log.child({ component: 'transport' }));
  const { server: httpServer, drain: httpDrain } = createHttpServer({
    refusals,
    dispatcher,
    callerOk,
    callerHeader,
    bodyLimit: config.http.body_limit,
    basePath: config.http.base_path,
    state,
    metrics,
    log,
    routes: tokenMode?.router,
    adminSplit: config.admin.enabled,
    limits: {
      headersTimeoutMs: config.http.headers_timeout,
      requestTimeoutMs: config.http.request_timeout,
      maxConnections: config.http.max_connections,
    },
  });
  const admin = config.admin.enabled ? createAdminServer({ state, metrics }) : undefined;
  let grpc: { server: GrpcServer; health: HealthImplementation } | undefined;
  let grpcListener: GrpcListener | undefined;
  /** GRPC health follows readiness (/readyz): set when listening, when keys load, when draining. */
  function syncHealth(): void {
    const status = state.notReadyReason() === undefined ? 'SERVING' : 'NOT_SERVING';
    grpc?.health.setStatus('', status);
    grpc?.health.setStatus(SERVICE_NAME, status);
  }

  const listenHttp = () =>
    new Promise<number>((resolve, reject) => {
      const failed = (err: Error) => reject(new ListenError('http', config.http.host, config.http.port, err));
      httpServer.once('error', failed);
      httpServer.listen(config.http.port, config.http.host, () => {
        httpServer.off('error', failed);
        resolve((httpServer.address() as AddressInfo).port);
      });
    });

  const listenGrpc = async (): Promise<number> => {
    grpc = createGrpcServer({
      refusals,
      dispatcher,
      callerOk,
      callerHeader,
      maxMessageSize: config.grpc.max_message_size,
      maxConnectionAgeMs: config.grpc.max_connection_age,
      maxConnectionAgeGraceMs: config.grpc.max_connection_age_grace,
      metrics,
      log,
    });
    grpcListener = new GrpcListener(grpc.server, {
      tls: config.grpc.tls,
      handshakeTimeoutMs: config.grpc.handshake_timeout,
      maxConnections: config.grpc.max_connections,
      onRefused: (reason) => metrics.grpcConnectionsRefused.inc({ reason }),
    });
    try {
      return await grpcListener.listen(config.grpc.host, config.grpc.port);
    } catch (err) {
      throw new ListenError('grpc', config.grpc.host, config.grpc.port, err as Error);
    }
  };

  return {
    config,
    log,
    metrics,
    state,
    policy,
    async start() {
      if (callerSecrets(config.caller_auth.secret).length === 0) {
        // Allowed by the CONTRACT (the secret is optional), but worth a line: anyone who can reach
        // the HTTP port (and the GRPC port without mutual TLS) can ask for decisions and, through
        // rpc routes, call the upstreams.
        log.warn('caller_auth.secret is empty: requests are not checked to come from Centrifugo; set PROXY_SECRET');
      }
      for (const warning of firstRunWarnings(config)) log.warn(warning);
      await policy.load();
      for (const warning of channelTemplateWarnings(config, policy.current().source.rules)) log.warn(warning);
      if (config.policy.watch) policy.watch(config.policy.debounce);
      // Redis first (commands are not queued while it connects), then what reads from it.
      if (redis && !(await redis.ready(2000))) log.warn('redis not reachable yet: serving from the in-process cache until it is');
      await Promise.all([replicas?.start(), revocations?.start()]);
      if (config.rpc.watch) routes?.start(config.policy.debounce);
      if (candidate) {
        const outcome = await candidate.reload('start');
        if (outcome.result === 'failed') log.error({ error: outcome.error }, 'candidate policy not loaded; comparing nothing until it loads');
        if (config.policy.watch) candidate.watch(config.policy.debounce);
      }
      // Not awaited: readiness waits for the keys, the listeners do not.
      jwtAuthenticator?.start();
      const adminPort = await admin?.listen(config.admin.host, config.admin.port);
      const httpPort = await listenHttp();
      state.markListening('http');
      let grpcPort: number | undefined;
      if (config.grpc.enabled) {
        grpcPort = await listenGrpc();
        state.markListening('grpc');
        syncHealth();
      }
      const policyPagePort = await policyPage?.start();
      log.info(
        { http_port: httpPort, grpc_port: grpcPort, admin_port: adminPort, policy_version: policy.current().version, mode: config.policy.mode, ...startupSummary(config) },
        'listening',
      );
      return { httpPort, grpcPort, adminPort, policyPagePort };
    },
    async stop() {
      state.markDraining();
      policy.stop();
      replicas?.stop();
      revocations?.stop();
      routes?.stop();
      candidate?.stop();
      jwtAuthenticator?.stop();
      await policyPage?.stop();
      syncHealth();
      const targets = grpc && grpcListener ? [httpDrain, grpcDrainable(grpc.server, grpcListener)] : [httpDrain];
      // Nothing to settle when nothing was listening (a start that failed).
      const settleMs = httpServer.listening ? undefined : 0;
      const drained = await drainAll(targets, config.server.drain_timeout, settleMs);
      if (!drained) log.warn('drain timeout passed; closed the remaining connections');
      await Promise.all([rpc.close(!drained), cache.close(), tokenMode?.close(), admin?.close(), overrides.redis ? undefined : redis?.close()]);
    },
  };
}

/** One Redis connection for the decision cache and revocations; none when cache.redis_url is empty. */
function openRedis(config: Config, log: Logger, metrics: Metrics): RedisStore | undefined {
  if (config.cache.redis_url === '') return undefined;
  const client = createRedis(config.cache.redis_url, { commandTimeoutMs: config.cache.redis_timeout, connectionName: 'centrifugo-policy-proxy' });
  // ioredis reports every failed reconnect attempt; RedisStore already logs failures rate-limited.
  client.on('error', () => undefined);
  return new RedisStore(client, config.cache.key_prefix, log.child({ component: 'redis' }), {
    onError: (operation) => metrics.redisErrors.inc({ operation }),
    onBreaker: (state) => {
      for (const s of ['closed', 'open', 'half_open']) metrics.redisBreaker.set({ state: s }, s === state ? 1 : 0);
    },
  });
}
