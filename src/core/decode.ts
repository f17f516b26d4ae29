/**
 * Turns what a transport received into the typed request of an event. Shared by HTTP and GRPC
 * so both refuse the same inputs. Everything here comes from Centrifugo, and the payload and
 * headers from the end user through it: only types are trusted after this, never content.
 */
import type { EventName } from './events.js';
import type { Headers, JsonValue, Payload, RequestOf } from './messages.js';

export class BadRequestError extends Error {}

/** A request as a transport saw it, before typing. */
export interface WireRequest {
  /** Scalar and list fields by their proto/JSON name. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** JSON-mode payload bytes (`data`), already taken out of the transport's encoding. */
  readonly data?: Buffer;
  /** Connection meta, parsed. */
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

function payload(wire: WireRequest): { data?: Payload; binary: boolean } {
  const b64 = optionalString(wire.fields, 'b64data');
  if (b64) {
    if (!BASE64.test(b64)) throw new BadRequestError('field "b64data" is not valid base64');
    return { data: { bytes: Buffer.from(b64, 'base64') }, binary: true };
  }
  const binary = wire.fields.encoding === 'binary';
  return wire.data && wire.data.length > 0 ? { data: { bytes: wire.data }, binary } : { binary };
}

function common(wire: WireRequest) {
  return {
    client: requiredString(wire.fields, 'client'),
    transport: optionalString(wire.fields, 'transport') ?? '',
    protocol: optionalString(wire.fields, 'protocol') ?? '',
    encoding: optionalString(wire.fields, 'encoding') ?? '',
    headers: wire.headers,
  };
}

function identity(wire: WireRequest) {
  return wire.meta === undefined ? { user: userField(wire.fields) } : { user: userField(wire.fields), meta: wire.meta };
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
  connect: (wire) => {
    const { data, binary } = payload(wire);
    return {
      ...common(wire),
      binary,
      data,
      name: optionalString(wire.fields, 'name'),
      version: optionalString(wire.fields, 'version'),
      channels: stringList(wire.fields, 'channels'),
    };
  },
  refresh: (wire) => ({ ...common(wire), ...identity(wire), binary: wire.fields.encoding === 'binary' }),
  subscribe: (wire) => ({ ...common(wire), ...identity(wire), channel: requiredString(wire.fields, 'channel'), ...payload(wire) }),
  publish: (wire) => ({ ...common(wire), ...identity(wire), channel: requiredString(wire.fields, 'channel'), ...payload(wire) }),
  sub_refresh: (wire) => ({
    ...common(wire),
    ...identity(wire),
    channel: requiredString(wire.fields, 'channel'),
    binary: wire.fields.encoding === 'binary',
  }),
  // Centrifugo omits `method` when the client sent an empty one; the policy then sees "".
  rpc: (wire) => ({ ...common(wire), ...identity(wire), method: optionalString(wire.fields, 'method') ?? '', ...payload(wire) }),
};

export function decodeRequest<E extends EventName>(event: E, wire: WireRequest): RequestOf[E] {
  return (decoders[event] as Decoder<E>)(wire);
}
