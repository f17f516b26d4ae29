/**
 * Fuzzed GRPC request messages (fast-check, seeded: FUZZ_SEED, FUZZ_RUNS) sent through a raw
 * grpc-js client with identity serializers, so the bytes reach the server as generated: random
 * bytes and mutated valid messages to every method we implement, junk to the methods we do not.
 * Never INTERNAL or UNKNOWN, never a connect allowed without a valid token; a message that does
 * not decode is INVALID_ARGUMENT, one without `client` names it, unimplemented methods answer
 * UNIMPLEMENTED, and a valid message with unknown fields added gets its exact answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { PROTO_FILE, SERVICE_NAME } from '../../src/transport/grpc/proto.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { eachConcurrently, fuzzSettings } from '../helpers/fuzz-seed.js';
import { grpcToJson, jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { trafficCase, trafficConfigYaml } from '../helpers/traffic.js';

const root = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true });
const type = (name: string) => root.lookupType(`centrifugal.centrifugo.proxy.${name}`);
const METHODS = {
  Connect: { request: type('ConnectRequest'), response: type('ConnectResponse') },
  Refresh: { request: type('RefreshRequest'), response: type('RefreshResponse') },
  Subscribe: { request: type('SubscribeRequest'), response: type('SubscribeResponse') },
  Publish: { request: type('PublishRequest'), response: type('PublishResponse') },
  SubRefresh: { request: type('SubRefreshRequest'), response: type('SubRefreshResponse') },
  RPC: { request: type('RPCRequest'), response: type('RPCResponse') },
} as const;
type Method = keyof typeof METHODS;
const UNIMPLEMENTED = ['MapPublish', 'MapRemove', 'NotifyCacheEmpty', 'NotifyChannelState', 'SharedPollRefresh'] as const;
const METHOD_OF = { connect: 'Connect', subscribe: 'Subscribe', publish: 'Publish', rpc: 'RPC' } as const;

interface Template {
  readonly method: Method;
  readonly bytes: Buffer;
  /** The exact answer in Centrifugo's JSON form, keys sorted. */
  readonly expected: string;
}

const sorted = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

const TEMPLATES: readonly Template[] = Array.from({ length: 14 }, (_, i) => trafficCase(i)).map((c) => {
  const method = METHOD_OF[c.event];
  const message = METHODS[method].request.fromObject(jsonToGrpcRequest(c.body));
  return { method, bytes: Buffer.from(METHODS[method].request.encode(message).finish()), expected: sorted(JSON.parse(c.expected)) };
});
const BAD_GATEWAY = sorted({ error: { code: 502, message: 'bad gateway', temporary: true } });
const VALID_TOKEN = Buffer.from(JSON.parse(trafficCase(0).body).data.token as string);

/** A well-formed field with a number no request message uses (Centrifugo adds fields in new versions). */
const unknownField = fc.tuple(fc.integer({ min: 100, max: 10_000 }), fc.oneof(fc.uint8Array({ maxLength: 40 }).map((b) => ({ bytes: b })), fc.nat().map((n) => ({ varint: n })))).map(([field, value]) => {
  const w = protobuf.Writer.create();
  if ('bytes' in value) w.uint32((field << 3) | 2).bytes(value.bytes);
  else w.uint32(field << 3).uint32(value.varint);
  return Buffer.from(w.finish());
});

type Expect = { code: number; answer?: string } | { decodes: boolean };
interface Sample {
  readonly kind: string;
  readonly method: string;
  readonly bytes: Buffer;
  readonly expect: Expect;
}

/** What a message that may or may not decode must get: decided by decoding it the way the server does. */
function byDecoding(kind: string, method: Method, bytes: Buffer): Sample {
  try {
    const fields = METHODS[method].request.toObject(METHODS[method].request.decode(bytes), { defaults: true }) as { client?: string };
    // Without `client` it is refused (another field may be named first: meta, b64data).
    if (!fields.client) return { kind, method, bytes, expect: { code: status.INVALID_ARGUMENT } };
    return { kind, method, bytes, expect: { decodes: true } };
  } catch {
    return { kind, method, bytes, expect: { code: status.INVALID_ARGUMENT } };
  }
}

const methodName = fc.constantFrom(...(Object.keys(METHODS) as Method[]));
const template = fc.constantFrom(...TEMPLATES);
const samples = fc.oneof(
  fc.tuple(methodName, fc.uint8Array({ maxLength: 200 })).map(([method, bytes]) => byDecoding('random bytes', method, Buffer.from(bytes))),
  // One byte changed.
  fc.tuple(template, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([t, at, xor]) => {
    const bytes = Buffer.from(t.bytes);
    const i = at % bytes.length;
    bytes[i] = (bytes[i] as number) ^ xor;
    return byDecoding('byte changed', t.method, bytes);
  }),
  // Cut short.
  fc.tuple(template, fc.nat()).map(([t, at]) => byDecoding('truncated', t.method, t.bytes.subarray(0, at % t.bytes.length))),
  // Random bytes spliced in.
  fc.tuple(template, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 20 })).map(([t, at, junk]) => {
    const i = at % t.bytes.length;
    return byDecoding('bytes inserted', t.method, Buffer.concat([t.bytes.subarray(0, i), Buffer.from(junk), t.bytes.subarray(i)]));
  }),
  // Well-formed unknown fields: ignored, the template's exact answer.
  fc.tuple(template, fc.array(unknownField, { minLength: 1, maxLength: 4 })).map(([t, extra]) => ({
    kind: 'unknown fields',
    method: t.method,
    bytes: Buffer.concat([t.bytes, ...extra]),
    expect: { code: status.OK, answer: t.expected },
  })),
  // Methods declared in the proto that we do not implement.
  fc.tuple(fc.constantFrom(...UNIMPLEMENTED), fc.uint8Array({ maxLength: 100 })).map(([method, bytes]) => ({
    kind: 'unimplemented method',
    method,
    bytes: Buffer.from(bytes),
    expect: { code: status.UNIMPLEMENTED },
  })),
);

describe('fuzz: GRPC request messages', () => {
  let upstream: EchoUpstream;
  let h: Harness;
  let raw: Client;
  before(async () => {
    upstream = await startEchoUpstream();
    h = await startHarness(testConfigYaml(trafficConfigYaml(upstream.url)));
    raw = new Client(`127.0.0.1:${h.grpcPort}`, credentials.createInsecure());
  });
  after(async () => {
    raw?.close();
    await h?.stop();
    await upstream?.close();
  });

  const call = (method: string, bytes: Buffer) =>
    new Promise<{ code: number; details: string; response?: Buffer }>((resolve) => {
      const identity = (b: Buffer) => b;
      raw.makeUnaryRequest(`/${SERVICE_NAME}/${method}`, identity, identity, bytes, new Metadata(), { deadline: Date.now() + 30_000 }, (err: ServiceError | null, response?: Buffer) =>
        resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '', response }),
      );
    });

  /** Why the answer is not acceptable, or undefined. */
  function judge(s: Sample, got: { code: number; details: string; response?: Buffer }): string | undefined {
    if (got.code === status.INTERNAL || got.code === status.UNKNOWN) return `${status[got.code]} (${got.details})`;
    let answer: string | undefined;
    if (got.code === status.OK && s.method in METHODS) {
      const response = METHODS[s.method as Method].response;
      answer = sorted(grpcToJson(response.toObject(response.decode(got.response ?? Buffer.alloc(0)), { longs: Number })));
      if (s.method === 'Connect' && answer.startsWith('{"result"') && !s.bytes.includes(VALID_TOKEN)) return `a connect allowed without a valid token: ${answer}`;
      // The echo upstream sends a mutated rpc `data` back; when that is no longer JSON, its
      // answer is not JSON either, and 502 bad gateway is the right decision.
      const upstreamNotJson = s.method === 'RPC' && answer === BAD_GATEWAY;
      if (/^\{"error":\{"code":5\d\d,/.test(answer) && !upstreamNotJson) return `a decision with a 5xx error: ${answer}`;
    }
    if ('decodes' in s.expect) return got.code === status.OK || got.code === status.INVALID_ARGUMENT ? undefined : `${status[got.code]} (${got.details})`;
    if (got.code !== s.expect.code) return `${status[got.code]} (${got.details}), expected ${status[s.expect.code]}`;
    if (s.expect.answer !== undefined && answer !== s.expect.answer) return `answer ${answer}, expected ${s.expect.answer}`;
    return undefined;
  }

  it('no INTERNAL, no allow without a valid token, INVALID_ARGUMENT / UNIMPLEMENTED where due, exact answers where known', async () => {
    const { seed, runs } = fuzzSettings('grpc frames', 10_000);
    const inputs = fc.sample(samples, { seed, numRuns: runs });
    const kinds: Record<string, number> = {};
    const byKind: Record<string, number> = {};
    const firstOfKind: string[] = [];
    await eachConcurrently(inputs, 16, async (s, i) => {
      kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
      const problem = judge(s, await call(s.method, s.bytes));
      if (!problem) return;
      // Grouped by input kind and what went wrong, so one cause shows as one line.
      const key = `${s.kind}: ${problem.slice(0, 60)}`;
      byKind[key] = (byKind[key] ?? 0) + 1;
      if (byKind[key] === 1) firstOfKind.push(`#${i} ${s.kind} ${s.method}: ${problem}; sent ${s.bytes.toString('hex').slice(0, 200)}`);
    });
    const problems = Object.values(byKind).reduce((a, b) => a + b, 0);
    console.log(JSON.stringify({ fuzz: 'grpc frames', seed, sent: inputs.length, kinds, problems, problemsByKind: byKind }));
    assert.equal(inputs.length, runs);
    assert.deepEqual(firstOfKind, [], `seed ${seed}: ${problems} problems`);
  });
});
