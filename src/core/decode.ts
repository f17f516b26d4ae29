/**
 * Turns what a transport received into the typed request of an event. Shared by HTTP and GRPC
 * so both refuse the same inputs. Everything here comes from Centrifugo, and the payload and
 * headers from the end user through it: only types are trusted after this, never content.
 */
import type { EventName } from './events.js';
import { jsonTextWithinDepth, looksLikeJsonContainer, MAX_JSON_DEPTH } from './json-depth.js';
import type { Headers, JsonValue, Payload, RequestOf } from './messages.js';

export class BadRequestError extends Error {}

/** A request as a transport saw it, before typing. */
export interface WireRequest {
  /** Scalar and list fields by their proto/JSON name. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** JSON-mode payload bytes (`data`), already taken out of the transport's encoding. */
  readonly data?: Buffer;
  /** Or `data` already parsed (HTTP JSON mode): its bytes are then made only if something asks. */
  readonly parsedData?: JsonValue;
  /** Connection meta, parsed by a transport that bounded its depth before parsing (MAX_JSON_DEPTH). */
  readonly meta?: JsonValue;
  readonly headers: Headers;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function optionalString(fields: WireRequest['fields'], name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequestError(`field "${name}" must be a string`);
  return value;
}

function requiredString(fields: WireRequest['fields'], name: string): string {
  const value = optionalString(fields, name);
  if (value === undefined || value === '') throw new BadRequestError(`field "${name}" is required`);
  return value;
}

/** `user` is always sent on non-connect events, "" for anonymous: present, possibly empty. */
function userField(fields: WireRequest['fields']): string {
  const value = optionalString(fields, 'user');
  if (value === undefined) throw new BadRequestError('field "user" is required');
  return value;
}

/**
 * Client-controlled JSON nested deeper than MAX_JSON_DEPTH is bad input (json-depth.ts). Binary
 * payloads are only checked when they are JSON text (connect reads its token from JSON in
 * b64data); other bytes have no nesting to speak of and are passed on untouched.
 */
function checkDepth(name: string, bytes: Buffer, binary: boolean): void {
  if (binary && !looksLikeJsonContainer(bytes)) return;
  if (!jsonTextWithinDepth(bytes, MAX_JSON_DEPTH)) throw new BadRequestError(`field "${name}" is nested deeper than ${MAX_JSON_DEPTH} levels`);
}

function payload(wire: WireRequest): { data?: Payload; binary: boolean } {
  const b64 = optionalString(wire.fields, 'b64data');
  if (b64) {
    if (!BASE64.test(b64)) throw new BadRequestError('field "b64data" is not valid base64');
    const bytes = Buffer.from(b64, 'base64');
    checkDepth('b64data', bytes, true);
    return { data: { bytes }, binary: true };
  }
  const binary = wire.fields.encoding === 'binary';
  // Parsed data comes from a transport that checked the depth of the whole body (HTTP).
  if (wire.parsedData !== undefined) return { data: new ParsedPayload(wire.parsedData), binary };
  if (!wire.data || wire.data.length === 0) return { binary };
  checkDepth('data', wire.data, binary);
  return { data: { bytes: wire.data }, binary };
}

/**
 * A payload the transport had to parse anyway. Most events only read the parsed value (connect
 * looks for its token), so the bytes, needed only to forward it, are encoded on first use.
 */
class ParsedPayload implements Payload {
  private encoded?: Buffer;

  constructor(readonly parsed: JsonValue) {}

  get bytes(): Buffer {
    this.encoded ??= Buffer.from(JSON.stringify(this.parsed));
    return this.encoded;
  }
}

/** Fields every event has; one flat object literal per request keeps the hot path cheap. */
function common(wire: WireRequest) {
  const { fields } = wire;
  return {
    client: requiredString(fields, 'client'),
    transport: optionalString(fields, 'transport') ?? '',
    protocol: optionalString(fields, 'protocol') ?? '',
    encoding: optionalString(fields, 'encoding') ?? '',
    headers: wire.headers,
    user: '',
    meta: wire.meta,
  };
}

/** common() plus the connection's identity, for every event but connect. */
function withIdentity(wire: WireRequest) {
  const request = common(wire);
  request.user = userField(wire.fields);
  return request;
}

function stringList(fields: WireRequest['fields'], name: string): string[] | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new BadRequestError(`field "${name}" must be a list of strings`);
  }
  return value as string[];
}

type Decoder<E extends EventName> = (wire: WireRequest) => RequestOf[E];

const decoders: { [E in EventName]: Decoder<E> } = {
  // Written out rather than common() minus user and meta: a rest pattern and a spread per
  // connect showed up in its profile.
  connect: (wire) => {
    const { data, binary } = payload(wire);
    const { fields } = wire;
    return {
      client: requiredString(fields, 'client'),
      transport: optionalString(fields, 'transport') ?? '',
      protocol: optionalString(fields, 'protocol') ?? '',
      encoding: optionalString(fields, 'encoding') ?? '',
      headers: wire.headers,
      binary,
      data,
      name: optionalString(wire.fields, 'name'),
      version: optionalString(wire.fields, 'version'),
      channels: stringList(wire.fields, 'channels'),
    };
  },
  refresh: (wire) => Object.assign(withIdentity(wire), { binary: wire.fields.encoding === 'binary' }),
  subscribe: (wire) => Object.assign(withIdentity(wire), { channel: requiredString(wire.fields, 'channel') }, payload(wire)),
  publish: (wire) => Object.assign(withIdentity(wire), { channel: requiredString(wire.fields, 'channel') }, payload(wire)),
  sub_refresh: (wire) =>
    Object.assign(withIdentity(wire), { channel: requiredString(wire.fields, 'channel'), binary: wire.fields.encoding === 'binary' }),
  // Centrifugo omits `method` when the client sent an empty one; the policy then sees "".
  rpc: (wire) => Object.assign(withIdentity(wire), { method: optionalString(wire.fields, 'method') ?? '' }, payload(wire)),
};

export function decodeRequest<E extends EventName>(event: E, wire: WireRequest): RequestOf[E] {
  return (decoders[event] as Decoder<E>)(wire);
}
