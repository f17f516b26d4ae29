/**
 * Request decoders and response encoders for the proxy methods, compiled once by protobufjs
 * from our proto. proto-loader's generic (de)serializers add a second pass over every message
 * (toObject on the way in, fromObject on the way out) that copies each field into a new plain
 * object; here the decoded message is read as is (unset fields read as their proto3 default
 * from its prototype, `bytes` fields are views into the received frame, not copies) and
 * responses are written straight from the plain objects encode.ts builds. The wire format is
 * the proto's: test/unit/grpc-codec.test.ts holds both against proto-loader field by field.
 */
import protobuf from 'protobufjs';
import { PROTO_FILE } from './proto.js';

export interface MethodCodec {
  decodeRequest(bytes: Buffer): Record<string, unknown>;
  encodeResponse(message: Record<string, unknown>): Buffer;
}

const PACKAGE = 'centrifugal.centrifugo.proxy';

let root: protobuf.Root | undefined;

function proxyRoot(): protobuf.Root {
  // keepCase: field names as the proto spells them (snake_case), as proto-loader is configured.
  if (!root) {
    root = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

/** The codec of one method, by its request and response message names. */
export function methodCodec(requestType: string, responseType: string): MethodCodec {
  const request = proxyRoot().lookupType(`${PACKAGE}.${requestType}`);
  const response = proxyRoot().lookupType(`${PACKAGE}.${responseType}`);
  return {
    decodeRequest: (bytes) => request.decode(bytes) as unknown as Record<string, unknown>,
    encodeResponse: (message) => {
      const encoded = response.encode(message).finish();
      // A view of the writer's buffer, not a copy (protobufjs hands back a Buffer on Node).
      return Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    },
  };
}
