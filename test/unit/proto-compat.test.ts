/**
 * Our proto against the field table in the reference (Centrifugo v6.9.1's proxy.proto): every
 * message and field has the same number and type, and bytes encoded with the reference numbers
 * decode into our field names.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { PROTO_FILE } from '../../src/transport/grpc/proto.js';
import { ROOT } from '../helpers/harness.js';

const REFERENCE = `${ROOT}/../shared/reference/centrifugo-proxy.md`;

interface RefField {
  number: number;
  name: string;
  type: string;
}

/** Parses "#### `Message`" sections and their "| # | `field` | `type` |" rows. */
function referenceMessages(): Map<string, RefField[]> {
  const messages = new Map<string, RefField[]>();
  let current: RefField[] | undefined;
  for (const line of readFileSync(REFERENCE, 'utf8').split('\n')) {
    const heading = /^#### `(\w+)`$/.exec(line);
    if (heading) {
      current = [];
      messages.set(heading[1] as string, current);
      continue;
    }
    const row = /^\| (\d+) \| `(\w+)` \| `([^`]+)` \|/.exec(line);
    if (row && current) current.push({ number: Number(row[1]), name: row[2] as string, type: row[3] as string });
  }
  return messages;
}

function ourType(field: protobuf.Field): string {
  const map = field as unknown as protobuf.MapField;
  if (map.map) return `map<${map.keyType},${field.type}>`;
  return field.repeated ? `repeated ${field.type}` : field.type;
}

describe('proto compatibility with Centrifugo v6.9.1', { skip: !existsSync(REFERENCE) && 'reference not beside the project' }, () => {
  const root = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true });
  const pkg = 'centrifugal.centrifugo.proxy';
  const reference = referenceMessages();

  it('the reference lists the messages we expect', () => {
    assert.ok(reference.size >= 45, `parsed ${reference.size} messages`);
  });

  for (const [name, fields] of reference) {
    it(`message ${name}: same fields, numbers and types`, () => {
      const type = root.lookupType(`${pkg}.${name}`);
      const ours = Object.values(type.fields)
        .map((f) => ({ number: f.id, name: f.name, type: ourType(f) }))
        .sort((a, b) => a.number - b.number);
      assert.deepEqual(ours, [...fields].sort((a, b) => a.number - b.number));
    });
  }

  it('service methods and streaming kinds match', () => {
    const service = root.lookupService(`${pkg}.CentrifugoProxy`);
    const methods = Object.values(service.methods).map((m) => `${m.name}(${m.requestStream ? 'stream ' : ''}${m.requestType}) ${m.responseStream ? 'stream ' : ''}${m.responseType}`);
    assert.deepEqual(methods, [
      'Connect(ConnectRequest) ConnectResponse',
      'Refresh(RefreshRequest) RefreshResponse',
      'Subscribe(SubscribeRequest) SubscribeResponse',
      'Publish(PublishRequest) PublishResponse',
      'RPC(RPCRequest) RPCResponse',
      'SubRefresh(SubRefreshRequest) SubRefreshResponse',
      'SubscribeUnidirectional(SubscribeRequest) stream StreamSubscribeResponse',
      'SubscribeBidirectional(stream StreamSubscribeRequest) stream StreamSubscribeResponse',
      'NotifyCacheEmpty(NotifyCacheEmptyRequest) NotifyCacheEmptyResponse',
      'NotifyChannelState(NotifyChannelStateRequest) NotifyChannelStateResponse',
      'MapPublish(MapPublishRequest) MapPublishResponse',
      'MapRemove(MapRemoveRequest) MapRemoveResponse',
      'SharedPollRefresh(SharedPollRefreshRequest) SharedPollRefreshResponse',
    ]);
  });

  it('hand-encoded bytes with the reference numbers decode into our fields', () => {
    // SubscribeRequest: field 10 user="56", 11 channel="chat:a", 13 meta=bytes, 16 labels map (ignored by us but must decode).
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).string('c1');
    writer.uint32((10 << 3) | 2).string('56');
    writer.uint32((11 << 3) | 2).string('chat:a');
    writer.uint32((13 << 3) | 2).bytes(Buffer.from('{"roles":["r"]}'));
    const decoded = root.lookupType(`${pkg}.SubscribeRequest`).decode(writer.finish()) as unknown as Record<string, unknown>;
    assert.equal(decoded.client, 'c1');
    assert.equal(decoded.user, '56');
    assert.equal(decoded.channel, 'chat:a');
    assert.equal(Buffer.from(decoded.meta as Uint8Array).toString(), '{"roles":["r"]}');

    // ConnectResponse{result{user="56", expire_at=1893456000}, disconnect{code=4501}} with the reference numbers.
    const response = root.lookupType(`${pkg}.ConnectResponse`);
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
