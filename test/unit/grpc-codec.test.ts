/**
 * The server's compiled GRPC codecs (src/transport/grpc/codec.ts) against proto-loader's
 * generic ones, which they replaced: every field of every request message decodes to the same
 * value, and every field of every response message encodes to the same bytes. Messages are
 * filled field by field from the proto itself, so a field added to the proto is covered too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MethodDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { PROTO_FILE, proxyPackageDefinition, SERVICE_NAME } from '../../src/transport/grpc/proto.js';
import { methodCodec } from '../../src/transport/grpc/codec.js';
import { EVENT_ROUTES } from '../../src/handlers/registry.js';

const root = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true });
root.resolveAll();
const service = proxyPackageDefinition()[SERVICE_NAME] as unknown as Record<string, MethodDefinition<unknown, unknown>>;

/** A value for every field of `type` (nested messages filled too, down to `depth`), in the plain form the server reads and writes. */
function filled(type: protobuf.Type, depth = 2): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const sample = (n: number): unknown => {
      if (field.resolvedType instanceof protobuf.Type) return depth > 0 ? filled(field.resolvedType, depth - 1) : {};
      switch (field.type) {
        case 'string':
          return `${field.name}-${n}`;
        case 'bytes':
          return Buffer.from(`{"${field.name}":${n}}`);
        case 'bool':
          return true;
        case 'int64':
        case 'uint64':
          return 1_700_000_000 + n;
        case 'int32':
        case 'uint32':
          return 7 + n;
        default:
          throw new Error(`no sample for ${type.name}.${field.name} (${field.type}): extend the test`);
      }
    };
    if (field.map) message[field.name] = { a: sample(1), b: sample(2) };
    else if (field.repeated) message[field.name] = [sample(1), sample(2)];
    else message[field.name] = sample(1);
  }
  return message;
}

/** Proto3 leaves an unset bytes field empty; protobufjs' default is an empty array, proto-loader's an empty Buffer. */
const comparable = (value: unknown): unknown => (Array.isArray(value) && value.length === 0 ? Buffer.alloc(0) : value);

describe('GRPC codecs match proto-loader on every field', () => {
  const implemented = EVENT_ROUTES.map((route) => route.grpcMethod);
  assert.equal(implemented.length, 6);

  for (const method of implemented) {
    const spec = service[method] as MethodDefinition<unknown, unknown> & { requestType: { type: { name: string } }; responseType: { type: { name: string } } };
    const requestName = spec.requestType.type.name;
    const responseName = spec.responseType.type.name;
    const codec = methodCodec(requestName, responseName);
    const requestType = root.lookupType(`centrifugal.centrifugo.proxy.${requestName}`);
    const responseType = root.lookupType(`centrifugal.centrifugo.proxy.${responseName}`);

    for (const [note, message] of [
      ['every field set', filled(requestType)],
      ['no field set', {}],
    ] as const) {
      it(`${method}: a ${requestName} with ${note} decodes as proto-loader decodes it`, () => {
        const bytes = Buffer.from(requestType.encode(message).finish());
        const ours = codec.decodeRequest(bytes);
        const theirs = spec.requestDeserialize(bytes) as Record<string, unknown>;
        assert.ok(requestType.fieldsArray.length >= 5);
        for (const field of requestType.fieldsArray) {
          assert.deepEqual(comparable(ours[field.name]), comparable(theirs[field.name]), `${requestName}.${field.name}`);
          if (note === 'every field set') assert.deepEqual(ours[field.name], message[field.name], `${requestName}.${field.name} as sent`);
        }
      });
    }

    it(`${method}: bytes fields of a ${requestName} are views into the received message, not copies`, () => {
      const bytes = Buffer.from(requestType.encode(filled(requestType)).finish());
      const ours = codec.decodeRequest(bytes);
      for (const field of requestType.fieldsArray.filter((f) => f.type === 'bytes')) {
        const value = ours[field.name] as Buffer;
        assert.equal(value.buffer, bytes.buffer, `${requestName}.${field.name}`);
      }
    });

    const responses: Array<[string, Record<string, unknown>]> = [
      ['every field of every part set', filled(responseType, 3)],
      ['an empty result', { result: {} }],
      ['an error without temporary', { error: { code: 403, message: 'permission denied' } }],
      ['a disconnect', { disconnect: { code: 4503, reason: 'forbidden' } }],
    ];
    for (const [note, response] of responses) {
      it(`${method}: a ${responseName} with ${note} encodes to proto-loader's bytes`, () => {
        assert.deepEqual(codec.encodeResponse(response), spec.responseSerialize(response));
      });
    }
  }
});
