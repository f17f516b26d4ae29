/**
 * The one wrapper around every handler: timing, metrics, a child logger, the decision timeout,
 * and turning anything thrown (or a timeout) into the event's failure answer (failure-answers.ts:
 * `error 500 temporary` for most events, a short grace extension for refresh and sub_refresh).
 * Centrifugo never sees a transport failure from us.
 */
import type { Logger } from 'pino';
import type { Handler, HandlerContext } from '../handlers/handler.js';
import type { CounterCell, HistogramCell } from '../telemetry/hot-metrics.js';
import type { Metrics } from '../telemetry/metrics.js';
import { eventContext, logIds, parentFrom, tracer, tracingEnabled, type TraceContext } from '../telemetry/tracing.js';
import { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { DeadlineQueue, type Deadline } from './deadlines.js';
import { decisionCode, type Decision } from './decision.js';
import type { EventName } from './events.js';
import type { FailureAnswer } from './failure-answers.js';
import type { AnyResult, RequestOf } from './messages.js';

export type Transport = 'http' | 'grpc';

export interface CallInfo {
  readonly transport: Transport;
  readonly traceparent?: string;
  /** Aborted when the caller goes away. */
  readonly signal?: AbortSignal;
}

/** A decision the handler knew at once comes back as is, without a promise (transports write it straight away). */
export type InstrumentedHandler<E extends EventName> = (request: RequestOf[E], call: CallInfo) => Decision<AnyResult> | Promise<Decision<AnyResult>>;

export interface InstrumentDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** What each event answers when its handler throws or times out (core/failure-answers.ts). */
  readonly failureAnswer: (event: EventName) => FailureAnswer;
  /** No timeout for rpc: its routes carry their own upstream timeouts. */
  readonly timeoutMs: (event: EventName) => number | undefined;
  /** telemetry.include_user: put user IDs on spans. */
  readonly includeUser?: boolean;
}

class DecisionTimeout extends Error {}

const NEVER_ABORTED = new AbortController().signal;

/**
 * A traced request's context; its logger (with trace ids) is made only if a line is written.
 * A class, not an object literal with a getter: one stable shape for the handlers' hot code.
 */
class TracedHandlerContext implements HandlerContext {
  private traced?: Logger;
  readonly signal: AbortSignal;
  readonly traceparent?: string;

  constructor(
    private readonly base: Logger,
    readonly trace: TraceContext,
    call: CallInfo,
  ) {
    this.signal = call.signal ?? NEVER_ABORTED;
    this.traceparent = call.traceparent;
  }

  get log(): Logger {
    this.traced ??= this.base.child(logIds(this.trace) ?? {});
    return this.traced;
  }
}

export function instrument<E extends EventName>(event: E, handler: Handler<E>, deps: InstrumentDeps): InstrumentedHandler<E> {
  const failure = deps.failureAnswer(event);
  // Failure answers, so the span can be marked failed (a grace extension looks like any result).
  const failedDecisions = new WeakSet<Decision<AnyResult>>();
  const log = deps.log.child({ event });
  const timeoutMs = deps.timeoutMs(event);
  const deadlines = new DeadlineQueue();
  // Metric cells by transport + answer, resolved once: recording is then plain arithmetic.
  const durationCells = new Map<string, HistogramCell>();
  const decisionCells = new Map<string, CounterCell>();
  const record = (transport: Transport, decision: Decision<AnyResult>, seconds: number) => {
    const code = decisionCode(decision);
    const key = `${transport} ${decision.kind} ${code}`;
    let duration = durationCells.get(key);
    let counted = decisionCells.get(key);
    if (!duration || !counted) {
      duration = deps.metrics.requestDuration.cell({ event, transport, decision: decision.kind });
      counted = deps.metrics.decisions.cell({ event, decision: decision.kind, code });
      durationCells.set(key, duration);
      decisionCells.set(key, counted);
    }
    duration.observe(seconds);
    counted.inc();
  };
  const answer = (request: RequestOf[E], call: CallInfo, traceContext?: TraceContext): Decision<AnyResult> | Promise<Decision<AnyResult>> => {
    const started = performance.now();
    deps.metrics.inflightNow[call.transport] += 1;
    // Transports pass a signal only where work can be cancelled (rpc); the rest get one that never fires.
    const ctx: HandlerContext = traceContext
      ? new TracedHandlerContext(log, traceContext, call)
      : { log, signal: call.signal ?? NEVER_ABORTED, traceparent: call.traceparent };
    let work: Decision<AnyResult> | Promise<Decision<AnyResult>>;
    try {
      work = handler(request, ctx) as Decision<AnyResult> | Promise<Decision<AnyResult>>;
    } catch (err) {
      work = Promise.reject(err);
    }
    if (work instanceof Promise) return settle(work, call, ctx, started);
    // Known at once (an in-process cache hit): nothing to wait for, so no timeout to race.
    deps.metrics.inflightNow[call.transport] -= 1;
    record(call.transport, work, (performance.now() - started) / 1000);
    return work;
  };

  /** A decision still being worked on: raced against the timeout; a throw or a timeout becomes the failure answer. */
  const settle = async (work: Promise<Decision<AnyResult>>, call: CallInfo, ctx: HandlerContext, started: number): Promise<Decision<AnyResult>> => {
    let deadline: Deadline | undefined;
    let decision: Decision<AnyResult>;
    try {
      decision =
        timeoutMs === undefined
          ? await work
          : await Promise.race([
              work,
              new Promise<never>((_, reject) => {
                deadline = deadlines.add(timeoutMs, () => reject(new DecisionTimeout()));
              }),
            ]);
    } catch (err) {
      const timedOut = err instanceof DecisionTimeout;
      decision = failure.answer();
      failedDecisions.add(decision);
      if (failure.grace) {
        // Not an error for the user: they keep their connection or subscription a little longer.
        deps.metrics.refreshFallbacks.inc({ event, reason: timedOut ? 'timeout' : 'error' });
        const expireAt = decision.kind === 'result' ? (decision.result as { expire_at?: number }).expire_at : undefined;
        if (timedOut) ctx.log.warn({ timeout_ms: timeoutMs, expire_at: expireAt }, 'decision timed out; extended by auth.failure_extension');
        else ctx.log.warn({ err, expire_at: expireAt }, 'handler failed; extended by auth.failure_extension');
      } else if (timedOut) ctx.log.error({ timeout_ms: timeoutMs }, 'decision timed out');
      else ctx.log.error({ err }, 'handler failed');
    } finally {
      deadline?.done();
      deps.metrics.inflightNow[call.transport] -= 1;
    }
    record(call.transport, decision, (performance.now() - started) / 1000);
    return decision;
  };

  const spanName = `centrifugo.proxy ${event}`;
  const spanOptions = { kind: SpanKind.SERVER };
  /**
   * The event's span: child of the traceparent Centrifugo forwarded. Handlers get its context in
   * `ctx.trace` and pass it on, so their spans nest in it (no AsyncLocalStorage: see tracing.ts).
   * A request the sampler leaves out is answered as if tracing were off: no attributes, no trace
   * context, so it takes the same synchronous paths (its logs carry no trace ids, and an rpc
   * passes Centrifugo's traceparent on unchanged, as nothing of ours is exported for it).
   */
  const traced = (request: RequestOf[E], call: CallInfo): Decision<AnyResult> | Promise<Decision<AnyResult>> => {
    const parent = parentFrom(call.traceparent);
    const span = tracer().startSpan(spanName, spanOptions, parent);
    if (!span.isRecording()) {
      span.end();
      return answer(request, call);
    }
    return tracedAnswer(request, call, eventContext(parent, span), span);
  };

  /** Synchronous when the handler's answer is (a traced cache hit costs no promise either). */
  const tracedAnswer = (request: RequestOf[E], call: CallInfo, traceContext: TraceContext, span: Span): Decision<AnyResult> | Promise<Decision<AnyResult>> => {
    const target = request as { channel?: string; method?: string; user?: string };
    // Attributes set once at the start and once at the end (each setAttribute is a call into the SDK's limits checks).
    const started: Attributes = { 'centrifugo.event': event, 'centrifugo.transport': call.transport };
    if (target.channel !== undefined) started['centrifugo.channel'] = target.channel;
    if (target.method !== undefined) started['rpc.method'] = target.method;
    if (deps.includeUser && target.user !== undefined) started['enduser.id'] = target.user;
    span.setAttributes(started);
    const work = answer(request, call, traceContext);
    return work instanceof Promise ? work.then((decision) => endSpan(span, decision)) : endSpan(span, work);
  };

  const endSpan = (span: Span, decision: Decision<AnyResult>): Decision<AnyResult> => {
    const finished: Attributes = { 'centrifugo.decision': decision.kind, 'centrifugo.code': decisionCode(decision) };
    if (deps.includeUser && decision.kind === 'result' && event === 'connect') {
      const user = (decision.result as { user?: string }).user;
      if (user !== undefined) finished['enduser.id'] = user;
    }
    span.setAttributes(finished);
    if (failedDecisions.has(decision)) span.setStatus({ code: SpanStatusCode.ERROR, message: 'internal error' });
    span.end();
    return decision;
  };

  return (request, call) => (tracingEnabled() ? traced(request, call) : answer(request, call));
}
