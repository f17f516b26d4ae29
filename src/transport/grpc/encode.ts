/** Decisions as CentrifugoProxy response messages (proto-loader plain objects). */
import type { Decision } from '../../core/decision.js';
import type { AnyResult } from '../../core/messages.js';
import { resultToWire, type BytesEncoding } from '../../core/wire-result.js';

const protoBytes: BytesEncoding = {
  payload: (bytes) => bytes,
  meta: (meta) => Buffer.from(JSON.stringify(meta)),
};

export function encodeGrpcDecision(decision: Decision<AnyResult>, binary: boolean): Record<string, unknown> {
  switch (decision.kind) {
    case 'result':
      return { result: resultToWire(decision.result, binary, protoBytes) };
    case 'error':
      // Proto3 scalars at their default are left out, as Centrifugo's own Go encoder does.
      return { error: { code: decision.code, message: decision.message, ...(decision.temporary ? { temporary: true } : {}) } };
    case 'disconnect':
      return { disconnect: { code: decision.code, reason: decision.reason } };
    default: {
      const unknownKind: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(unknownKind)}`);
    }
  }
}
