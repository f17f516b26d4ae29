/**
 * OpenTelemetry tracing with @opentelemetry/sdk-node, configured only by the standard OTEL_*
 * variables (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, …). Without an endpoint
 * nothing starts and the hot path creates no spans at all: `tracingEnabled()` is false and the
 * instrumented code skips every tracing call.
 *
 * Trace contexts are passed explicitly (`HandlerContext.trace` → decider, cache, Redis, JWT,
 * upstream calls), never through AsyncLocalStorage: on Node 20 an enabled AsyncLocalStorage
 * puts a hook on every promise in the process, which cost a fifth of the requests per second
 * even with every trace sampled out. The SDK therefore gets a context manager that only keeps
 * a context for the synchronous extent of `context.with()` (all the SDK itself needs).
 */
import { createContextKey, propagation, ROOT_CONTEXT, trace, type Context, type ContextManager, type Span, type Tracer } from '@opentelemetry/api';

/** The trace context a request's work runs in (the event's span); absent when tracing is off. */
export type TraceContext = Context;

let enabled = false;
let shutdown: (() => Promise<void>) | undefined;

export const TRACER_NAME = 'centrifugo-policy-proxy';

export function tracingEnabled(): boolean {
  return enabled;
}

let cachedTracer: Tracer | undefined;
export function tracer(): Tracer {
  cachedTracer ??= trace.getTracer(TRACER_NAME);
  return cachedTracer;
}

/** Active context only while `with()` runs synchronously: no async hooks, no promise hooks. */
export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(_ctx: Context, target: T): T {
    return target;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}

/**
 * A context with one value more than its parent, found by walking up. The API's own context
 * copies its parent's whole map on every `setValue`; an event's context is made for every
 * traced request, so one link each is cheaper.
 */
class LinkedContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    return key === this.key ? this.value : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new LinkedContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new LinkedContext(this, key, undefined);
  }
}

const EVENT_NOTES = createContextKey('centrifugo-policy-proxy event notes');

/**
 * The context an event's work runs in: its span, and notes the event's steps add to as they go
 * (the decider's answers so far, for the span's `policy.allowed`). Kept in the context, not in a
 * WeakMap keyed by it: a WeakMap entry per request cost more than the rest of the span's work.
 */
export function eventContext(parent: Context, span: Span): TraceContext {
  return trace.setSpan(new LinkedContext(parent, EVENT_NOTES, new Map<string, boolean>()), span);
}

/** The notes of the event whose context (or a child's) this is; undefined outside an event context. */
export function eventNotes(traceContext: TraceContext): Map<string, boolean> | undefined {
  return traceContext.getValue(EVENT_NOTES) as Map<string, boolean> | undefined;
}

/** Whether the environment asks for trace export (and does not switch the SDK off). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== 'none'));
}

/** Starts the SDK when the environment asks for it; call before the app is built. */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (enabled || !tracingRequested(env)) return enabled;
  env.OTEL_SERVICE_NAME ??= 'centrifugo-policy-proxy';
  // Metrics are Prometheus (/metrics) and logs are pino lines: the SDK exports traces only.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  // Loaded only when wanted: the SDK and its exporters cost start time and memory.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  // No auto-instrumentations: the spans that matter (event, JWT, policy, Redis, upstream) are
  // made by the code itself, and traceparent is injected into upstream calls by hand.
  const sdk = new NodeSDK({ instrumentations: [], contextManager: new SynchronousContextManager() });
  sdk.start();
  enabled = true;
  shutdown = () => sdk.shutdown();
  return true;
}

/** Flushes and stops the exporter (SIGTERM, tests). */
export async function stopTracing(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  enabled = false;
  cachedTracer = undefined;
  await stop?.();
}

/** The parent context from a W3C traceparent Centrifugo forwarded (HTTP header or GRPC metadata). */
export function parentFrom(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/**
 * Runs `work` in a child span of `parent` when tracing is on and there is a parent (work done
 * outside a request, such as background Redis calls, makes no span); plain call otherwise.
 * `work` gets the span and the child's context, to pass on to its own calls.
 */
export async function inSpan<T>(parent: TraceContext | undefined, name: string, work: (span?: Span, child?: TraceContext) => Promise<T>): Promise<T> {
  if (!enabled || !parent) return work();
  const span = tracer().startSpan(name, undefined, parent);
  try {
    return await work(span, trace.setSpan(parent, span));
  } catch (err) {
    span.recordException(err as Error);
    throw err;
  } finally {
    span.end();
  }
}

/** Adds attributes to the span of a trace context (the event's span, inside a handler), if any. */
export function annotate(traceContext: TraceContext | undefined, attributes: Record<string, string | number | boolean>): void {
  if (!enabled || !traceContext) return;
  trace.getSpan(traceContext)?.setAttributes(attributes);
}

/** W3C trace context headers for calls to upstreams, from the given context. */
export function traceHeaders(traceContext: TraceContext): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(traceContext, carrier);
  return carrier;
}

/** trace_id and span_id for log lines written in a trace context. */
export function logIds(traceContext: TraceContext | undefined): { trace_id: string; span_id: string } | undefined {
  const span = traceContext && trace.getSpan(traceContext);
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
