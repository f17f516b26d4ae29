/**
 * Token mode's HTTP endpoints, mounted beside /healthz and /metrics on the express app:
 *
 *   POST /api/token               the caller's user token → a Centrifugo connection token
 *   POST /api/subscription-token  {"channel"} → a Centrifugo subscription token
 *   GET  /api/token/jwks          the signing key's public half (asymmetric keys only)
 *   POST /api/publish             backends, with an API key → Centrifugo's publish
 *   POST /api/broadcast           the same for several channels (all must be allowed)
 *
 * Answers are JSON; refusals are `{"error": "..."}` with 400, 401, 403, 429, 502, 503 or 504.
 * Each request gets a metric (endpoint, outcome), a span when tracing is on, and a log line
 * when refused; the policy's own decision log records every deny as for proxy events.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Identity } from '../auth/authenticator.js';
import type { ConnectRequest, JsonValue } from '../core/messages.js';
import type { Decider } from '../policy/decider.js';
import type { Metrics } from '../telemetry/metrics.js';
import { logIds, parentFrom, tracer, tracingEnabled, type TraceContext } from '../telemetry/tracing.js';
import { presentedKey, type ApiKeys } from './api-keys.js';
import type { ApiOutcome, CentrifugoApi } from './centrifugo-api.js';
import type { Minted, Refusal, TokenMinter } from './minter.js';
import type { RateLimiter } from './rate-limit.js';
import type { TokenSigner } from './signer.js';

export type Endpoint = 'token' | 'subscription_token' | 'publish' | 'broadcast';

export interface Publisher {
  readonly keys: ApiKeys;
  readonly api: CentrifugoApi;
  readonly maxChannels: number;
}

export interface TokenRoutesDeps {
  readonly minter: TokenMinter;
  readonly signer: TokenSigner;
  readonly limiter: RateLimiter;
  readonly corsOrigins: readonly string[];
  readonly decider: Decider;
  /** Absent when no API keys are configured: /api/publish and /api/broadcast are then 404. */
  readonly publisher?: Publisher;
  readonly bodyLimit: number;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** telemetry.include_user: user IDs on spans. */
  readonly includeUser: boolean;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly outcome: string;
  readonly headers?: Record<string, string>;
  /** Logged (at info) with the refusal; never sent. */
  readonly detail?: Record<string, unknown>;
}

interface Call {
  readonly req: Request;
  readonly trace?: TraceContext;
  /** Filled in once known, for spans and log lines. */
  user?: string;
}

/** Fields passed through to Centrifugo's publish/broadcast (everything else is dropped). */
const FORWARDED_FIELDS = ['data', 'b64data', 'skip_history', 'tags', 'idempotency_key', 'delta', 'version', 'version_epoch'] as const;
const MAX_CHANNEL_BYTES = 1024;

const refusal = (status: number, outcome: string, error: string, extra: Record<string, unknown> = {}): Answer => ({ status, outcome, body: { error, ...extra } });

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function channelProblem(value: unknown, field: string): string | undefined {
  if (typeof value !== 'string' || value === '') return `${field} must be a non-empty string`;
  if (Buffer.byteLength(value) > MAX_CHANNEL_BYTES) return `${field} is longer than ${MAX_CHANNEL_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(value)) return `${field} must not contain whitespace or control characters`;
  return undefined;
}

/** The HTTP request as a connect request, so the connect authenticator finds the token in the same sources: the JSON body stands for connect data. */
function asConnectRequest(req: Request): ConnectRequest {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value);
  }
  const body: unknown = req.body;
  return {
    client: '',
    transport: 'http',
    protocol: 'json',
    encoding: 'json',
    binary: false,
    headers,
    ...(isObject(body) ? { data: { bytes: Buffer.from(JSON.stringify(body)), parsed: body as JsonValue } } : {}),
  };
}

function refusedToken(refused: Refusal): Answer {
  switch (refused.kind) {
    case 'unauthorized':
      return { ...refusal(401, 'unauthorized', refused.reason), detail: { reason: refused.reason, ...(refused.detail ? { detail: refused.detail } : {}) } };
    case 'forbidden':
      return { ...refusal(403, 'forbidden', 'permission denied'), detail: { reason: refused.reason } };
    case 'unavailable':
      return { ...refusal(503, 'unavailable', refused.reason), headers: { 'retry-after': '5' }, detail: { reason: 'signing keys unavailable (JWKS fetch failed)' } };
  }
}

const minted = (result: Minted): Answer => ({ status: 200, outcome: 'ok', body: { token: result.token, expires_at: result.expiresAt } });

function forwarded(outcome: ApiOutcome): Answer {
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, outcome: 'ok', body: { result: outcome.body.result ?? {} } };
    case 'refused':
      return { ...refusal(502, 'refused', outcome.message, outcome.centrifugoError ? { centrifugo_error: outcome.centrifugoError } : {}), detail: { reason: outcome.message } };
    case 'timeout':
      return { ...refusal(504, 'timeout', 'centrifugo did not answer in time'), detail: { reason: 'centrifugo timeout' } };
    case 'unreachable':
      return { ...refusal(503, 'unavailable', outcome.message), headers: { 'retry-after': '1' }, detail: { reason: outcome.message } };
  }
}

/** Allowed origins get CORS headers (and credentials, for cookie token sources); preflights are answered here. */
function cors(origins: readonly string[]) {
  const exact = new Set(origins.filter((o) => o !== '*'));
  const any = origins.includes('*');
  return (req: Request, res: Response, next: NextFunction) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (exact.has(origin) || any);
    if (allowed) {
      // "*" cannot go with credentials: such callers send the token in a header or the body.
      res.setHeader('access-control-allow-origin', exact.has(origin) ? origin : '*');
      if (exact.has(origin)) res.setHeader('access-control-allow-credentials', 'true');
    }
    if (req.method !== 'OPTIONS') return next();
    if (allowed) {
      res.setHeader('access-control-allow-methods', 'POST');
      res.setHeader('access-control-allow-headers', 'authorization, content-type');
      res.setHeader('access-control-max-age', '600');
    }
    res.status(204).end();
  };
}

export function tokenRouter(deps: TokenRoutesDeps): express.Router {
  const router = express.Router();
  const json = express.json({ limit: deps.bodyLimit });
  const log = deps.log.child({ component: 'token_mode' });

  const endpoint = (name: Endpoint, work: (call: Call) => Promise<Answer>) => async (req: Request, res: Response) => {
    const started = performance.now();
    const span = tracingEnabled()
      ? tracer().startSpan(`token_api ${name}`, { kind: SpanKind.SERVER, attributes: { 'token_api.endpoint': name } }, parentFrom(req.headers.traceparent as string | undefined))
      : undefined;
    const call: Call = { req, trace: span ? trace.setSpan(parentFrom(req.headers.traceparent as string | undefined), span) : undefined };
    let answer: Answer;
    try {
      answer = await work(call);
    } catch (err) {
      log.error({ err, endpoint: name, ...logIds(call.trace) }, 'token mode endpoint failed');
      answer = refusal(500, 'internal', 'internal error');
    }
    deps.metrics.tokenApiRequests.inc({ endpoint: name, outcome: answer.outcome });
    deps.metrics.tokenApiDuration.observe({ endpoint: name }, (performance.now() - started) / 1000);
    if (answer.detail) log.info({ endpoint: name, status: answer.status, user: call.user, ...answer.detail, ...logIds(call.trace) }, 'token mode request refused');
    if (span) {
      span.setAttributes({ 'http.response.status_code': answer.status, 'token_api.outcome': answer.outcome });
      if (deps.includeUser && call.user !== undefined) span.setAttribute('enduser.id', call.user);
      if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: answer.outcome });
      span.end();
    }
    res.setHeader('cache-control', 'no-store');
    for (const [header, value] of Object.entries(answer.headers ?? {})) res.setHeader(header, value);
    res.status(answer.status).json(answer.body);
  };

  /** Authenticates, then rate-limits per user: everything minting does first. */
  const caller = async (call: Call): Promise<Identity | Answer> => {
    const outcome = await deps.minter.authenticate(asConnectRequest(call.req), call.trace);
    if (outcome.kind !== 'authenticated') return refusedToken(outcome);
    call.user = outcome.identity.user;
    if (!deps.limiter.take(outcome.identity.user)) {
      return { ...refusal(429, 'rate_limited', 'too many requests'), headers: { 'retry-after': String(deps.limiter.retryAfter(outcome.identity.user)) }, detail: { reason: 'rate limit' } };
    }
    return outcome.identity;
  };

  const corsMiddleware = cors(deps.corsOrigins);
  router.options(['/api/token', '/api/subscription-token'], corsMiddleware);

  router.post(
    '/api/token',
    corsMiddleware,
    json,
    endpoint('token', async (call) => {
      const identity = await caller(call);
      if ('status' in identity) return identity;
      const result = await deps.minter.connectionToken(identity, call.trace);
      return result.kind === 'ok' ? minted(result) : refusedToken(result);
    }),
  );

  router.post(
    '/api/subscription-token',
    corsMiddleware,
    json,
    endpoint('subscription_token', async (call) => {
      const body: unknown = call.req.body;
      const problem = isObject(body) ? channelProblem(body.channel, 'channel') : 'expected a JSON object body with "channel"';
      // Who asks comes first: a stranger learns nothing about what input is acceptable.
      const identity = await caller(call);
      if ('status' in identity) return identity;
      if (problem) return refusal(400, 'bad_request', problem);
      const result = await deps.minter.subscriptionToken(identity, (body as { channel: string }).channel, call.trace);
      return result.kind === 'ok' ? minted(result) : refusedToken(result);
    }),
  );

  router.get('/api/token/jwks', (_req, res) => {
    const jwks = deps.signer.jwks();
    if (!jwks) res.status(404).json({ error: 'no public key: token_mode.connection uses an HMAC secret' });
    else res.json(jwks);
  });

  const publisher = deps.publisher;
  if (publisher) {
    const backend = (call: Call) => {
      const identity = publisher.keys.identify(presentedKey(call.req.headers));
      if (identity) call.user = identity.subject;
      return identity;
    };
    const allowedAll = async (subject: string, roles: readonly string[], channels: readonly string[], traceContext?: TraceContext) => {
      const denied: string[] = [];
      for (const channel of channels) {
        if (!(await deps.decider.decide({ user: subject, roles, action: 'publish', object: channel }, traceContext)).allowed) denied.push(channel);
      }
      return denied;
    };
    const fields = (body: Record<string, unknown>) =>
      Object.fromEntries(FORWARDED_FIELDS.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
    const payloadProblem = (body: Record<string, unknown>) =>
      body.data === undefined && body.b64data === undefined ? 'one of "data" or "b64data" is required' : undefined;
    const unauthorized = (call: Call) =>
      refusal(401, 'unauthorized', presentedKey(call.req.headers) === undefined ? 'missing api key' : 'invalid api key');

    router.post(
      '/api/publish',
      json,
      endpoint('publish', async (call) => {
        const identity = backend(call);
        if (!identity) return { ...unauthorized(call), detail: { reason: 'api key' } };
        const body: unknown = call.req.body;
        if (!isObject(body)) return refusal(400, 'bad_request', 'expected a JSON object body');
        const problem = channelProblem(body.channel, 'channel') ?? payloadProblem(body);
        if (problem) return refusal(400, 'bad_request', problem);
        const channel = body.channel as string;
        const denied = await allowedAll(identity.subject, identity.roles, [channel], call.trace);
        if (denied.length > 0) return { ...refusal(403, 'forbidden', 'permission denied', { channels: denied }), detail: { reason: 'policy denies publish', channels: denied } };
        return forwarded(await publisher.api.call('publish', { channel, ...fields(body) }, call.trace));
      }),
    );

    router.post(
      '/api/broadcast',
      json,
      endpoint('broadcast', async (call) => {
        const identity = backend(call);
        if (!identity) return { ...unauthorized(call), detail: { reason: 'api key' } };
        const body: unknown = call.req.body;
        if (!isObject(body)) return refusal(400, 'bad_request', 'expected a JSON object body');
        const channels = body.channels;
        if (!Array.isArray(channels) || channels.length === 0) return refusal(400, 'bad_request', '"channels" must be a non-empty array');
        if (channels.length > publisher.maxChannels) return refusal(400, 'bad_request', `at most ${publisher.maxChannels} channels (token_mode.publish.max_channels)`);
        const problem = channels.map((c, i) => channelProblem(c, `channels[${i}]`)).find(Boolean) ?? payloadProblem(body);
        if (problem) return refusal(400, 'bad_request', problem);
        const unique = [...new Set(channels as string[])];
        // All or nothing: a broadcast that reached only some channels would be hard to reason about.
        const denied = await allowedAll(identity.subject, identity.roles, unique, call.trace);
        if (denied.length > 0) return { ...refusal(403, 'forbidden', 'permission denied', { channels: denied }), detail: { reason: 'policy denies publish', channels: denied } };
        return forwarded(await publisher.api.call('broadcast', { channels: unique, ...fields(body) }, call.trace));
      }),
    );
  }

  // Body parser failures (malformed JSON, too large) as JSON answers like every other refusal.
  router.use('/api', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: number }).status;
    if (status === undefined || status < 400 || status >= 500) return next(err);
    res.status(status).json({ error: status === 413 ? 'body too large' : 'malformed JSON body' });
  });
  return router;
}
