/**
 * OpenTelemetry tracing with @opentelemetry/sdk-node, configured only by the standard OTEL_*
 * variables (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, …). Without an endpoint
 * nothing starts and the hot path creates no spans at all: `tracingEnabled()` is false and the
 * instrumented code skips every tracing call.
 */
import { context, propagation, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';

let enabled = false;
let shutdown: (() => Promise<void>) | undefined;

export const TRACER_NAME = 'centrifugo-policy-proxy';

export function tracingEnabled(): boolean {
  return enabled;
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
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
  const sdk = new NodeSDK({ instrumentations: [] });
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
  await stop?.();
}

/** The parent context from a W3C traceparent Centrifugo forwarded (HTTP header or GRPC metadata). */
export function parentFrom(traceparent: string | undefined): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** Runs `work` in a child span of the active one when tracing is on; plain call otherwise. */
export async function inSpan<T>(name: string, work: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return work();
  return tracer().startActiveSpan(name, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Adds attributes to the active span (the event's span, inside a handler), if any. */
export function annotate(attributes: Record<string, string | number | boolean>): void {
  if (!enabled) return;
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** W3C trace context headers of the active span, for calls to upstreams. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
