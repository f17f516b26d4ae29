/** Decisions as CentrifugoProxy response messages (proto-loader plain objects). */
import type { Decision } from '../../core/decision.js';
import type { AnyResult } from '../../core/messages.js';
import { markStable, StableEncodings } from '../../core/stable-results.js';
import { hasWireFields, resultToWire, type BytesEncoding } from '../../core/wire-result.js';

const protoBytes: BytesEncoding = {
  payload: (bytes) => bytes,
  meta: (meta) => Buffer.from(JSON.stringify(meta)),
};

/**
 * An allow with nothing in it, the most common answer: one shared object, whose encoding the
 * server keeps ready (service-definition.ts) instead of encoding it per call.
 */
export const EMPTY_ALLOW: Readonly<Record<string, unknown>> = Object.freeze({ result: Object.freeze({}) });

/** A stable result's message is itself marked stable, so the server keeps its bytes too. */
const stableMessages = new StableEncodings<Readonly<Record<string, unknown>>>();

export function encodeGrpcDecision(decision: Decision<AnyResult>, binary: boolean): Readonly<Record<string, unknown>> {
  switch (decision.kind) {
    case 'result':
      if (!hasWireFields(decision.result)) return EMPTY_ALLOW;
      return stableMessages.get(decision.result, binary, () => markStable({ result: resultToWire(decision.result, binary, protoBytes) }));
    case 'error':
      // Proto3 scalars at their default are left out, as Centrifugo's own Go encoder does.
      return { error: decision.temporary ? { code: decision.code, message: decision.message, temporary: true } : { code: decision.code, message: decision.message } };
    case 'disconnect':
      return { disconnect: { code: decision.code, reason: decision.reason } };
    default: {
      const unknownKind: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(unknownKind)}`);
    }
  }
}
