/**
 * Results as wire objects, shared by both transports. Applies Centrifugo's rules once:
 * omit empty values (Go's omitempty), never send `null` in data/info/meta (Centrifugo would pass
 * the literal null on), and in binary mode carry payloads as b64data/b64info.
 */
import type { AnyResult, JsonValue, Payload } from './messages.js';

export interface BytesEncoding {
  /** How JSON-mode payload bytes travel (embedded JSON text for HTTP, bytes for GRPC). */
  payload(bytes: Buffer): unknown;
  /** How meta travels (always JSON, never base64). */
  meta(meta: JsonValue): unknown;
}

const isPayload = (value: unknown): value is Payload =>
  typeof value === 'object' && value !== null && Buffer.isBuffer((value as Payload).bytes);

const isEmpty = (value: unknown): boolean =>
  value === undefined || value === false || value === 0 || value === '' || (Array.isArray(value) && value.length === 0);

export function resultToWire(result: AnyResult, binary: boolean, encoding: BytesEncoding): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    if (isEmpty(value)) continue;
    if (isPayload(value)) {
      if (value.bytes.length === 0) continue;
      if (binary) wire[`b64${key}`] = value.bytes.toString('base64');
      else if (value.bytes.toString('utf8') !== 'null') wire[key] = encoding.payload(value.bytes);
    } else if (key === 'meta') {
      if (value !== null) wire[key] = encoding.meta(value as JsonValue);
    } else {
      wire[key] = value;
    }
  }
  return wire;
}

/** False for a result with no fields at all (`{}`), which both transports answer from a ready-made form. */
export function hasWireFields(result: object): boolean {
  for (const key in result) if (Object.hasOwn(result, key)) return true;
  return false;
}
