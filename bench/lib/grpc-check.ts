/**
 * Checks GRPC answers with a raw HTTP/2 client (node:http2, no grpc-js, nothing from src/):
 * h2load only sees HTTP/2 and cannot tell a GRPC failure (grpc-status in the trailers) or a
 * deny in the body from a success, so every GRPC row sends this sample before and after its
 * load and counts each answer that is not HTTP 200 + grpc-status 0 + exactly the expected
 * message bytes as an error.
 */
import { connect, constants } from 'node:http2';

/** The proto's `package centrifugal.centrifugo.proxy; service CentrifugoProxy`. */
export const GRPC_SERVICE_PATH = '/centrifugal.centrifugo.proxy.CentrifugoProxy';

/**
 * `SubscribeResponse{result: SubscribeResult{}}` on the wire: field 1 (result), wire type 2
 * (length-delimited) is the tag byte 0x0a, then length 0. Written from the protobuf encoding
 * rules rather than by an encoder, so the check shares no code with what it checks.
 */
export const EMPTY_RESULT_MESSAGE = Buffer.from([0x0a, 0x00]);

export interface GrpcSample {
  readonly port: number;
  readonly method: string;
  /** The request: a length-prefixed GRPC frame. */
  readonly frame: Buffer;
  /** The answer's message bytes, without the 5-byte GRPC prefix. */
  readonly expectMessage: Buffer;
  readonly metadata?: Record<string, string>;
  readonly count: number;
}

export interface GrpcSampleResult {
  readonly checked: number;
  readonly errors: number;
  /** The first wrong answer, in words. */
  readonly firstMismatch?: string;
}

/** Sends `count` calls (16 at a time) on one connection and checks each answer. */
export async function sampleGrpc(options: GrpcSample): Promise<GrpcSampleResult> {
  const session = connect(`http://127.0.0.1:${options.port}`);
  session.on('error', () => undefined);
  let errors = 0;
  let firstMismatch: string | undefined;
  const fail = (why: string) => {
    errors++;
    firstMismatch ??= why;
  };
  const call = () =>
    new Promise<void>((resolve) => {
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: `${GRPC_SERVICE_PATH}/${options.method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...options.metadata,
      });
      let status = 0;
      let grpcStatus: string | undefined;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => {
        status = Number(headers[constants.HTTP2_HEADER_STATUS]);
        // A trailers-only answer carries grpc-status in the headers.
        if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
      });
      stream.on('trailers', (trailers) => {
        grpcStatus = String(trailers['grpc-status']);
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => {
        fail(`stream error: ${err.message}`);
        resolve();
      });
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        const expected = Buffer.concat([frameHeader(options.expectMessage.length), options.expectMessage]);
        if (status !== 200) fail(`HTTP ${status}`);
        else if (grpcStatus !== '0') fail(`grpc-status ${grpcStatus ?? 'missing'}`);
        else if (!body.equals(expected)) fail(`answer bytes ${body.toString('hex')}, expected ${expected.toString('hex')}`);
        resolve();
      });
      stream.end(options.frame);
    });
  try {
    for (let sent = 0; sent < options.count; sent += 16) {
      await Promise.all(Array.from({ length: Math.min(16, options.count - sent) }, call));
    }
  } finally {
    session.close();
  }
  return { checked: options.count, errors, ...(firstMismatch ? { firstMismatch } : {}) };
}

/** GRPC's 5-byte message prefix: not compressed, then the length (big-endian). */
function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(length, 1);
  return header;
}
