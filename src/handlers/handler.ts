/** The shape every event handler has; handlers never see a transport. */
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { RevocationList } from '../auth/revocations.js';
import type { Config } from '../config/schema.js';
import type { Decision } from '../core/decision.js';
import type { EventName } from '../core/events.js';
import type { RequestOf, ResultOf } from '../core/messages.js';
import type { Decider } from '../policy/decider.js';
import type { RateLimits } from '../ratelimit/rate-limits.js';
import type { RpcForwarder } from '../rpc/forwarder.js';
import type { TraceContext } from '../telemetry/tracing.js';

export interface HandlerContext {
  readonly log: Logger;
  /** Aborted when the decision timeout passes or the caller goes away. */
  readonly signal: AbortSignal;
  /** W3C traceparent Centrifugo forwarded, if any; carried on to upstreams. */
  readonly traceparent?: string;
  /** With tracing on: the event span's context, passed to every call that makes child spans. */
  readonly trace?: TraceContext;
}

/** A decision known at once (an in-process cache hit) may be returned as is, without a promise. */
export type Handler<E extends EventName> = (request: RequestOf[E], ctx: HandlerContext) => Decision<ResultOf[E]> | Promise<Decision<ResultOf[E]>>;

export interface HandlerDeps {
  readonly config: Config;
  readonly decider: Decider;
  readonly authenticator: Authenticator;
  readonly revocations: RevocationList;
  readonly rpc: RpcForwarder;
  /** rate_limits; absent when there are no rules (nothing is counted). */
  readonly limits?: RateLimits;
  /** Counts connects answered keys_unavailable (cpp_keys_unavailable_total). */
  readonly onKeysUnavailable?: () => void;
  /** Unix milliseconds; replaceable in tests. */
  readonly now: () => number;
}

export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);
