/**
 * The CentrifugoProxy service as our GRPC server registers it. grpc-js answers a message that
 * does not deserialize with INTERNAL before any handler runs, which would hide bad input behind
 * "server failure". So: implemented methods get a deserializer that turns a decode failure into
 * a marker the handler answers as INVALID_ARGUMENT; methods we do not implement read no bytes at
 * all, so grpc-js' default handler answers UNIMPLEMENTED whatever the payload. Implemented
 * methods decode and encode with the compiled codecs of codec.ts instead of proto-loader's.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { methodCodec } from './codec.js';
import { EMPTY_ALLOW } from './encode.js';
import { StableEncodings } from '../../core/stable-results.js';

/** What an implemented method's handler receives when the request bytes are not its message. */
export class UndecodableRequest {
  constructor(readonly messageName: string) {}
}

const NOT_READ = Object.freeze({});

/** The message name proto-loader records for a method's request or response. */
function messageName(method: MethodDefinition<unknown, unknown>, side: 'requestType' | 'responseType'): string {
  const type = (method as unknown as Record<string, { type?: { name?: string } } | undefined>)[side]?.type?.name;
  if (!type) throw new Error(`proto-loader gave no ${side} for ${method.path}`);
  return type;
}

export function serverServiceDefinition(generic: ServiceDefinition, implemented: ReadonlySet<string>): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(generic) as Array<[string, MethodDefinition<unknown, unknown>]>) {
    if (!implemented.has(name)) {
      // The bytes are never looked at: the default handler refuses the call. (Not null: grpc-js
      // takes a falsy message for "no message" and answers that instead.)
      definition[name] = { ...method, requestDeserialize: () => NOT_READ };
      continue;
    }
    const requestName = messageName(method, 'requestType');
    const codec = methodCodec(requestName, messageName(method, 'responseType'));
    const decode = codec.decodeRequest;
    // One marker per method: nothing is allocated for a refused message, and nothing of it is kept.
    const undecodable = new UndecodableRequest(requestName);
    const emptyAllow = codec.encodeResponse(EMPTY_ALLOW);
    // Bytes of stable messages (a repeated connect's answer), per method: the response types differ.
    const stableBytes = new StableEncodings<Buffer>();
    const encode = (value: Record<string, unknown>) => stableBytes.get(value, false, () => codec.encodeResponse(value));
    definition[name] = {
      ...method,
      // grpc-js copies the bytes into its frame, so one encoding serves every call that answers it.
      responseSerialize: (value: unknown) => (value === EMPTY_ALLOW ? emptyAllow : encode(value as Record<string, unknown>)),
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch {
          return undecodable;
        }
      },
    };
  }
  return definition as ServiceDefinition;
}
