/** Decisions as the JSON bodies Centrifugo decodes with Go's encoding/json (snake_case keys). */
import type { Decision } from '../../core/decision.js';
import type { AnyResult } from '../../core/messages.js';
import { StableEncodings } from '../../core/stable-results.js';
import { hasWireFields, resultToWire, type BytesEncoding } from '../../core/wire-result.js';

/** Already-serialised JSON text, embedded as is (Centrifugo's bytes fields are raw JSON on HTTP). */
class RawJson {
  constructor(readonly text: string) {}
}

const jsonEmbedding: BytesEncoding = {
  payload: (bytes) => new RawJson(bytes.toString('utf8')),
  meta: (meta) => new RawJson(JSON.stringify(meta)),
};

function serialize(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${serialize(item)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** An allow with nothing in it (subscribe, publish without a lifetime): the most common answer by far. */
const EMPTY_RESULT = '{"result":{}}';
const stableAnswers = new StableEncodings<string>();

/**
 * Errors and disconnects have fixed shapes, written as text straight away rather than built as
 * objects for the generic serializer; the bytes are the same (key order code, message, temporary).
 */
export function encodeHttpDecision(decision: Decision<AnyResult>, binary: boolean): string {
  switch (decision.kind) {
    case 'result':
      if (!hasWireFields(decision.result)) return EMPTY_RESULT;
      return stableAnswers.get(decision.result, binary, () => serialize({ result: resultToWire(decision.result, binary, jsonEmbedding) }));
    case 'error':
      return `{"error":{"code":${JSON.stringify(decision.code)},"message":${JSON.stringify(decision.message)}${decision.temporary ? ',"temporary":true' : ''}}}`;
    case 'disconnect':
      return `{"disconnect":{"code":${JSON.stringify(decision.code)},"reason":${JSON.stringify(decision.reason)}}}`;
    default: {
      const unknownKind: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(unknownKind)}`);
    }
  }
}
