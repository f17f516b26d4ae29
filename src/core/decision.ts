/**
 * A decision is a value, never an exception: both transports encode it into the body of a
 * successful response (HTTP 200 / GRPC OK), exactly as Centrifugo expects.
 */
export type Decision<R> =
  | { readonly kind: 'result'; readonly result: R }
  | { readonly kind: 'error'; readonly code: number; readonly message: string; readonly temporary: boolean }
  | { readonly kind: 'disconnect'; readonly code: number; readonly reason: string };

export type DecisionKind = Decision<unknown>['kind'];

export const allow = <R>(result: R): Decision<R> => ({ kind: 'result', result });

export interface ErrorAnswer {
  readonly code: number;
  readonly message: string;
  readonly temporary?: boolean;
}
export interface DisconnectAnswer {
  readonly code: number;
  readonly reason: string;
}

export const fail = (answer: ErrorAnswer): Decision<never> => ({
  kind: 'error',
  code: answer.code,
  message: answer.message,
  temporary: answer.temporary ?? false,
});

export const disconnect = (answer: DisconnectAnswer): Decision<never> => ({
  kind: 'disconnect',
  code: answer.code,
  reason: answer.reason,
});

/** The code a decision carries, for metrics and logs ("" for results). */
export function decisionCode(decision: Decision<unknown>): string {
  return decision.kind === 'result' ? '' : String(decision.code);
}
