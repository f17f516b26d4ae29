/**
 * The one wrapper around every handler: timing, metrics, a child logger, the decision timeout,
 * and turning anything thrown into `error 500 temporary` (the client retries; Centrifugo never
 * sees a transport failure from us).
 */
import type { Logger } from 'pino';
import type { Codes } from '../config/schema.js';
import type { Handler, HandlerContext } from '../handlers/handler.js';
import type { Metrics } from '../telemetry/metrics.js';
import { decisionCode, fail, type Decision } from './decision.js';
import type { EventName } from './events.js';
import type { AnyResult, RequestOf } from './messages.js';

export type Transport = 'http' | 'grpc';

export interface CallInfo {
  readonly transport: Transport;
  readonly traceparent?: string;
  /** Aborted when the caller goes away. */
  readonly signal?: AbortSignal;
}

export type InstrumentedHandler<E extends EventName> = (request: RequestOf[E], call: CallInfo) => Promise<Decision<AnyResult>>;

export interface InstrumentDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly codes: Codes;
  /** No timeout for rpc: its routes carry their own upstream timeouts. */
  readonly timeoutMs: (event: EventName) => number | undefined;
}

class DecisionTimeout extends Error {}

const NEVER_ABORTED = new AbortController().signal;

export function instrument<E extends EventName>(event: E, handler: Handler<E>, deps: InstrumentDeps): InstrumentedHandler<E> {
  const internal = fail(deps.codes.internal);
  const log = deps.log.child({ event });
  return async (request, call) => {
    const started = process.hrtime.bigint();
    deps.metrics.inflight.inc({ transport: call.transport });
    const timeoutMs = deps.timeoutMs(event);
    // Transports pass a signal only where work can be cancelled (rpc); the rest get one that never fires.
    const ctx: HandlerContext = { log, signal: call.signal ?? NEVER_ABORTED, traceparent: call.traceparent };
    let timer: NodeJS.Timeout | undefined;
    let decision: Decision<AnyResult>;
    try {
      const work = handler(request, ctx) as Promise<Decision<AnyResult>>;
      decision =
        timeoutMs === undefined
          ? await work
          : await Promise.race([
              work,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new DecisionTimeout()), timeoutMs);
              }),
            ]);
    } catch (err) {
      if (err instanceof DecisionTimeout) log.error({ timeout_ms: timeoutMs }, 'decision timed out');
      else log.error({ err }, 'handler failed');
      decision = internal;
    } finally {
      if (timer) clearTimeout(timer);
      deps.metrics.inflight.dec({ transport: call.transport });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics.requestDuration.observe({ event, transport: call.transport, decision: decision.kind }, seconds);
    deps.metrics.decisions.inc({ event, decision: decision.kind, code: decisionCode(decision) });
    return decision;
  };
}
