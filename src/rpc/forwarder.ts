/**
 * Forwards an allowed RPC call to its upstream: the call's data is the POST body, the identity
 * travels in headers. Before the call: the route's params schema and concurrency limit; around
 * it: a circuit breaker per route and, for idempotent routes, retries within the route's
 * timeout. Failures map to the CONTRACT's temporary 502/503/504 errors.
 *
 * The breaker is keyed by route (method pattern + upstream URL), not by upstream origin: a
 * route's timeout and its method's slowness belong to that route, and one slow method must not
 * turn the healthy methods of the same backend into 503s. The price: when a whole backend is
 * down, each of its routes pays `failures` failed calls before its own breaker opens.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpRequest, Agent } from 'undici';
import { Breaker } from '../cache/breaker.js';
import type { Codes, Config } from '../config/schema.js';
import { allow, fail, type Decision } from '../core/decision.js';
import type { RpcRequest, RpcResult } from '../core/messages.js';
import type { HandlerContext } from '../handlers/handler.js';
import { inSpan, traceHeaders, type TraceContext } from '../telemetry/tracing.js';
import { AttemptSignal } from './attempt-signal.js';
import { headerJson, headerText } from './header-values.js';
import { RouteTable, type Route } from './route-table.js';

/** Upstream answers larger than this are refused (Centrifugo has to carry them to a client). */
const MAX_UPSTREAM_BODY = 1024 * 1024;
const RETRY_BACKOFF_MS = 25;

export interface RpcForwarder {
  find(method: string): Route | undefined;
  forward(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext): Promise<Decision<RpcResult>>;
  /** Swaps in new routes (config reload); calls in flight finish on the old ones. */
  replaceRoutes(routes: Config['rpc']['routes']): void;
  /** Waits for calls in flight; `force` (after the drain timeout) cuts them instead. */
  close(force?: boolean): Promise<void>;
}

type Answer = Codes['internal'];

/**
 * One attempt's outcome: an answer for the client, a failure that may be retried, or abandoned
 * (our caller went away mid-call: it says nothing about the upstream, and nobody waits for more).
 */
type Attempt =
  | { readonly decision: Decision<RpcResult> }
  | { readonly failure: Answer; readonly retryable: boolean; readonly upstreamDown: boolean }
  | { readonly abandoned: true };

const ABANDONED: Attempt = { abandoned: true };

function isApplicationError(value: unknown): value is { error: { code: number; message: string; temporary?: boolean } } {
  if (value === null || typeof value !== 'object' || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return Number.isInteger(code) && (code as number) >= 400 && (code as number) <= 1999 && typeof message === 'string';
}

const breakerKey = (method: string, upstream: string): string => `${method} ${upstream}`;

export interface ForwarderEvents {
  readonly onUpstream?: (route: string, status: string, seconds: number) => void;
  readonly onBreaker?: (route: string, upstream: string, state: string) => void;
  /** An answer that did not match the route's result_schema, and what was done. */
  readonly onResultMismatch?: (route: string, action: 'logged' | 'refused') => void;
}

export class HttpRpcForwarder implements RpcForwarder {
  private table: RouteTable;
  private readonly breakers = new Map<string, Breaker>();
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

  constructor(
    routes: Config['rpc']['routes'],
    private readonly codes: Codes,
    private readonly breakerConfig: Config['rpc']['breaker'] = { failures: 5, cooldown: 10_000 },
    private readonly events: ForwarderEvents = {},
  ) {
    this.table = new RouteTable(routes);
  }

  find(method: string): Route | undefined {
    return this.table.find(method);
  }

  replaceRoutes(routes: Config['rpc']['routes']): void {
    this.table = new RouteTable(routes);
    // Breakers of routes that are gone go too; the ones that stay keep their state.
    const kept = new Set(routes.map((r) => breakerKey(r.method, r.upstream)));
    for (const key of this.breakers.keys()) if (!kept.has(key)) this.breakers.delete(key);
  }

  async forward(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext): Promise<Decision<RpcResult>> {
    const invalid = this.paramsProblem(route, request);
    if (invalid) return fail({ ...this.codes.bad_request, message: `${this.codes.bad_request.message}: ${invalid}` });
    if (!route.limit.tryAcquire()) return fail(this.codes.too_many_requests);
    try {
      return await this.withRetries(route, request, roles, ctx);
    } finally {
      route.limit.release();
    }
  }

  private paramsProblem(route: Route, request: RpcRequest): string | undefined {
    if (!route.checkParams) return undefined;
    if (request.binary) return 'binary data cannot be checked against the route\'s params_schema';
    let params: unknown = null;
    if (request.data) {
      try {
        params = request.data.parsed ?? JSON.parse(request.data.bytes.toString('utf8'));
      } catch {
        return 'data is not JSON';
      }
    }
    return route.checkParams(params);
  }

  /** The route's breaker; kept across route reloads while the method pattern and upstream stay. */
  private breakerFor(route: Route): Breaker {
    const key = breakerKey(route.method, route.upstream);
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new Breaker({
        failures: this.breakerConfig.failures,
        cooldownMs: this.breakerConfig.cooldown,
        onStateChange: (state) => this.events.onBreaker?.(route.method, route.upstream, state),
      });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  private async withRetries(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext): Promise<Decision<RpcResult>> {
    const breaker = this.breakerFor(route);
    const deadline = performance.now() + route.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      // An open breaker answers at once: a dead upstream must not cost every caller its timeout.
      if (!breaker.allows()) return fail(this.codes.upstream_unavailable);
      const remaining = deadline - performance.now();
      const outcome = ctx.trace
        ? await inSpan(ctx.trace, 'rpc.upstream', async (span, child) => {
            span?.setAttributes({ 'rpc.method': request.method, 'rpc.attempt': attempt + 1, 'server.address': new URL(route.upstream).host });
            const result = await this.attempt(route, request, roles, ctx, remaining, child);
            span?.setAttribute('rpc.outcome', 'decision' in result ? result.decision.kind : 'abandoned' in result ? 'abandoned' : 'failed');
            return result;
          })
        : await this.attempt(route, request, roles, ctx, remaining);
      if ('decision' in outcome) {
        breaker.succeeded();
        return outcome.decision;
      }
      if ('abandoned' in outcome) {
        // The caller hung up (e.g. Centrifugo's rpc proxy timeout is shorter than the route's):
        // no verdict on the upstream. The answer goes nowhere; it only feeds our metrics.
        breaker.abandoned();
        return fail(this.codes.upstream_timeout);
      }
      if (outcome.upstreamDown) breaker.failed();
      else breaker.succeeded();
      const backoff = RETRY_BACKOFF_MS * (attempt + 1);
      if (!outcome.retryable || attempt >= route.retries || deadline - performance.now() <= backoff) return fail(outcome.failure);
      await sleep(backoff);
    }
  }

  private headersFor(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext, trace?: TraceContext): Record<string, string> {
    const headers: Record<string, string> = {};
    // Allow-listed headers first, so they can never replace the identity headers below.
    for (const name of route.headers) {
      const value = request.headers.get(name);
      if (value !== undefined) headers[name] = value;
    }
    headers['content-type'] = request.binary ? 'application/octet-stream' : 'application/json';
    headers['x-centrifugo-user'] = headerText(request.user);
    headers['x-centrifugo-client'] = headerText(request.client);
    headers['x-centrifugo-method'] = headerText(request.method);
    headers['x-centrifugo-roles'] = headerJson(roles);
    if (request.meta !== undefined) headers['x-centrifugo-meta'] = headerJson(request.meta);
    // With tracing on, the upstream's parent is our upstream-call span; otherwise Centrifugo's traceparent passes through.
    if (trace) Object.assign(headers, traceHeaders(trace));
    else if (ctx.traceparent) headers.traceparent = ctx.traceparent;
    return headers;
  }

  private async attempt(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext, remainingMs: number, trace?: TraceContext): Promise<Attempt> {
    const started = performance.now();
    const report = (status: string) => this.events.onUpstream?.(route.method, status, (performance.now() - started) / 1000);
    if (ctx.signal.aborted) return ABANDONED;
    if (remainingMs <= 0) return { failure: this.codes.upstream_timeout, retryable: false, upstreamDown: true };
    const body = request.data?.bytes ?? (request.binary ? Buffer.alloc(0) : Buffer.from('null'));
    const deadline = new AttemptSignal(ctx.signal, Math.ceil(remainingMs));
    try {
      let response;
      try {
        response = await httpRequest(route.upstream, { method: 'POST', headers: this.headersFor(route, request, roles, ctx, trace), body, signal: deadline.signal, dispatcher: this.agent });
      } catch (err) {
        if (deadline.cause === 'caller') return this.abandon(report);
        const timedOut = deadline.cause === 'timeout' || this.timedOut(err);
        report(timedOut ? 'timeout' : 'unreachable');
        return timedOut
          ? { failure: this.codes.upstream_timeout, retryable: false, upstreamDown: true }
          : { failure: this.codes.upstream_unavailable, retryable: true, upstreamDown: true };
      }
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await response.body.arrayBuffer());
      } catch (err) {
        if (deadline.cause === 'caller') return this.abandon(report);
        const timedOut = deadline.cause === 'timeout' || this.timedOut(err);
        report(timedOut ? 'timeout' : 'unreachable');
        return { failure: timedOut ? this.codes.upstream_timeout : this.codes.upstream_unavailable, retryable: false, upstreamDown: true };
      }
      return this.outcome(route, response.statusCode, bytes, request.binary, report, ctx);
    } finally {
      deadline.done();
    }
  }

  private abandon(report: (status: string) => void): Attempt {
    report('cancelled');
    return ABANDONED;
  }

  private outcome(route: Route, statusCode: number, bytes: Buffer, binary: boolean, report: (status: string) => void, ctx: HandlerContext): Attempt {
    report(String(statusCode));
    if (statusCode < 200 || statusCode >= 300) {
      ctx.log.warn({ route: route.method, status: statusCode }, 'rpc upstream answered with an error status');
      const serverError = statusCode >= 500;
      return { failure: this.codes.upstream_error, retryable: serverError, upstreamDown: serverError };
    }
    return { decision: this.answer(route, bytes, binary, ctx) };
  }

  /** The upstream's 2xx body as Centrifugo's RPC result, or its application error. */
  private answer(route: Route, bytes: Buffer, binary: boolean, ctx: HandlerContext): Decision<RpcResult> {
    if (bytes.length > MAX_UPSTREAM_BODY) return fail(this.codes.upstream_error);
    if (binary) return allow(bytes.length > 0 ? { data: { bytes } } : {});
    if (bytes.length === 0) return allow({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return fail(this.codes.upstream_error);
    }
    if (isApplicationError(parsed)) {
      return fail({ code: parsed.error.code, message: parsed.error.message, temporary: parsed.error.temporary === true });
    }
    if (route.checkResult) {
      const problem = route.checkResult(parsed);
      if (problem) {
        const refused = route.resultCheck === 'refuse';
        // The problem names paths and schema keywords, never values: results may carry user data.
        ctx.log.warn({ route: route.method, problem, refused }, "rpc upstream answer does not match the route's result_schema");
        this.events.onResultMismatch?.(route.method, refused ? 'refused' : 'logged');
        if (refused) return fail(this.codes.upstream_error);
      }
    }
    return allow(parsed === null ? {} : { data: { bytes: Buffer.from(JSON.stringify(parsed)) } });
  }

  /** undici's own header and body timeouts (our deadline's cause is checked first). */
  private timedOut(err: unknown): boolean {
    const code = (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
    return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  }

  async close(force = false): Promise<void> {
    await (force ? this.agent.destroy() : this.agent.close());
  }
}
