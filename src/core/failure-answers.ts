/**
 * What each event answers when we cannot decide: the handler threw (a bug, Redis trouble that
 * escaped its fallbacks) or the decision timeout passed. One table, used only by instrument(),
 * so no handler carries its own copy.
 *
 * Most events answer `error 500 temporary` (the client retries). refresh and sub_refresh cannot:
 * Centrifugo ignores `error` and `disconnect` in their answers, reads "no result" as expired and
 * closes the connection (3005) or ends the subscription (2501 / 3006), so our outage would
 * disconnect everybody whose expiry falls into it. They get a short grace extension instead,
 * the same thing Centrifugo itself does when its call to us fails (now + 60 s in
 * internal/proxy/refresh_handler.go and sub_refresh_handler.go of v6.9.1): the next refresh
 * decides again.
 */
import type { Codes } from '../config/schema.js';
import { allow, fail, type Decision } from './decision.js';
import type { EventName } from './events.js';
import type { AnyResult } from './messages.js';

export interface FailureAnswer {
  /** The answer sent instead of a decision. */
  answer(): Decision<AnyResult>;
  /** True for a grace extension: counted in cpp_refresh_fallback_total and logged at warn, not error. */
  readonly grace: boolean;
}

export interface FailureAnswerOptions {
  readonly codes: Codes;
  /** auth.failure_extension, milliseconds. */
  readonly extensionMs: number;
  /** Unix milliseconds. */
  readonly now: () => number;
}

const GRACE_EVENTS: ReadonlySet<EventName> = new Set(['refresh', 'sub_refresh']);

export function failureAnswerFor(event: EventName, options: FailureAnswerOptions): FailureAnswer {
  if (GRACE_EVENTS.has(event)) {
    return {
      grace: true,
      answer: () => allow({ expire_at: Math.floor((options.now() + options.extensionMs) / 1000) }),
    };
  }
  const internal = fail(options.codes.internal);
  return { grace: false, answer: () => internal };
}
