/**
 * Our proto against Centrifugo's genuine proxy.proto (read from the Go module cache, never
 * copied here): same package, every message of theirs with the same fields, numbers, types and
 * labels, the same service methods; and bytes encoded with Centrifugo's numbers decode into our
 * field names. Without the genuine file the comparison is skipped with the fix in the reason;
 * in CI (CI=true) it fails instead, so a missing install step cannot pass unnoticed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { PROTO_FILE } from '../../src/transport/grpc/proto.js';
import { CENTRIFUGO_VERSION, genuineProxyProto } from '../helpers/centrifugo-source.js';
import { loadProto, protoShape } from '../helpers/proto-shape.js';

const PKG = 'centrifugal.centrifugo.proxy';
const genuine = genuineProxyProto();
const inCi = process.env.CI === 'true';

describe(`proto compatibility with Centrifugo ${CENTRIFUGO_VERSION}'s proxy.proto`, () => {
  if ('missing' in genuine) {
    // A test, not a skipped suite: the runner's summary counts skipped tests only.
    it('compares with the genuine proxy.proto', { skip: inCi ? false : genuine.missing }, () => assert.fail(genuine.missing));
    return;
  }
  const ours = protoShape(loadProto(PROTO_FILE));
  const theirs = protoShape(loadProto(genuine.file));

  it('declares the same package', () => {
    assert.deepEqual(ours.packages, theirs.packages);
    assert.deepEqual(theirs.packages, [PKG], 'the package our server registers under');
  });

  it(`has every one of their messages (${theirs.messages.size})`, () => {
    // Guards the loop below against a genuine file that loaded but yielded next to nothing.
    assert.ok(theirs.messages.size >= 45, `read only ${theirs.messages.size} messages from ${genuine.file}`);
    assert.deepEqual([...theirs.messages.keys()].filter((m) => !ours.messages.has(m)), []);
  });

  it('has no message they lack', () => {
    assert.deepEqual([...ours.messages.keys()].filter((m) => !theirs.messages.has(m)), []);
  });

  for (const [name, message] of theirs.messages) {
    it(`message ${name.slice(PKG.length + 1)}: same fields, numbers, types and oneofs`, () => {
      assert.deepEqual(ours.messages.get(name), message);
    });
  }

  it('has the same enums', () => {
    assert.deepEqual(Object.fromEntries(ours.enums), Object.fromEntries(theirs.enums));
  });

  it('has the same services, methods, request and response types and streaming', () => {
    assert.ok(theirs.services.size >= 1, 'the genuine file declares a service');
    assert.deepEqual(Object.fromEntries(ours.services), Object.fromEntries(theirs.services));
  });
});

describe('our proto on the wire', () => {
  const root = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true });

  it('hand-encoded bytes with Centrifugo numbers decode into our fields', () => {
    // SubscribeRequest: 1 client, 10 user, 11 channel, 13 meta (bytes of JSON).
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).string('c1');
    writer.uint32((10 << 3) | 2).string('56');
    writer.uint32((11 << 3) | 2).string('chat:a');
    writer.uint32((13 << 3) | 2).bytes(Buffer.from('{"roles":["r"]}'));
    const decoded = root.lookupType(`${PKG}.SubscribeRequest`).decode(writer.finish()) as unknown as Record<string, unknown>;
    assert.equal(decoded.client, 'c1');
    assert.equal(decoded.user, '56');
    assert.equal(decoded.channel, 'chat:a');
    assert.equal(Buffer.from(decoded.meta as Uint8Array).toString(), '{"roles":["r"]}');

    // ConnectResponse{result{user, expire_at}, disconnect{code, reason}} puts result at 1, disconnect at 3.
    const response = root.lookupType(`${PKG}.ConnectResponse`);
    const bytes = response.encode(response.fromObject({ result: { user: '56', expire_at: 1893456000 }, disconnect: { code: 4501, reason: 'x' } })).finish();
    const inner = protobuf.Reader.create(bytes);
    const tags: number[] = [];
    while (inner.pos < inner.len) {
      const tag = inner.uint32();
      tags.push(tag >>> 3);
      inner.skipType(tag & 7);
    }
    assert.deepEqual(tags, [1, 3]);
  });
});
