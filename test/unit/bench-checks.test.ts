/**
 * The bench's own checks, which decide whether a figure counts: the raw HTTP/2 sampler that
 * stands in for h2load's blindness to GRPC answers, the storm's schedule of first connects and
 * repeats, the policy workload that must not be all-deny, and the /proc memory reader.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { EMPTY_RESULT_MESSAGE, GRPC_SERVICE_PATH, sampleGrpc } from '../../bench/lib/grpc-check.js';
import { memoryOf, mib } from '../../bench/lib/proc-memory.js';
import { stormSchedule } from '../../bench/lib/storm.js';
import { benchPolicy } from '../../bench/policy.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { generatePolicy } from '../helpers/policy-generator.js';

const frame = (message: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

/** A GRPC-shaped HTTP/2 server whose answer each case chooses; records the metadata it saw. */
async function grpcServer(answer: (stream: ServerHttp2Stream) => void): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer();
  server.on('stream', (stream, headers) => {
    seen.push(`${String(headers[':path'])} ${String(headers['x-proxy-secret'])}`);
    stream.on('data', () => undefined);
    stream.on('end', () => answer(stream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const ok = (message: Buffer, status = '0') => (stream: ServerHttp2Stream) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': status }));
  stream.end(frame(message));
};

describe('GRPC answer sampler (bench/lib/grpc-check.ts)', () => {
  const cases: Array<{ note: string; answer: (s: ServerHttp2Stream) => void; errors: number; first?: RegExp }> = [
    { note: 'the expected answer with grpc-status 0', answer: ok(EMPTY_RESULT_MESSAGE), errors: 0 },
    { note: 'grpc-status 7 in the trailers', answer: ok(EMPTY_RESULT_MESSAGE, '7'), errors: 5, first: /^grpc-status 7$/ },
    // SubscribeResponse{error: {code: 403}}: a deny is a successful GRPC call with other bytes.
    { note: 'a deny in the body', answer: ok(Buffer.from([0x12, 0x03, 0x08, 0x93, 0x03])), errors: 5, first: /^answer bytes 00000000051203089303, expected 00000000020a00$/ },
    {
      note: 'a trailers-only failure',
      answer: (s) => s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16' }, { endStream: true }),
      errors: 5,
      first: /^grpc-status 16$/,
    },
    {
      note: 'HTTP 503',
      answer: (s) => s.respond({ ':status': 503 }, { endStream: true }),
      errors: 5,
      first: /^HTTP 503$/,
    },
  ];
  for (const c of cases) {
    it(`${c.note}: ${c.errors} errors of 5`, async () => {
      const server = await grpcServer(c.answer);
      try {
        const result = await sampleGrpc({ port: server.port, method: 'Subscribe', frame: frame(Buffer.alloc(0)), expectMessage: EMPTY_RESULT_MESSAGE, metadata: { 'x-proxy-secret': 's3cret' }, count: 5 });
        assert.equal(result.checked, 5);
        assert.equal(result.errors, c.errors);
        if (c.first) assert.match(result.firstMismatch ?? '', c.first);
        else assert.equal(result.firstMismatch, undefined);
        assert.deepEqual(new Set(server.seen), new Set([`${GRPC_SERVICE_PATH}/Subscribe s3cret`]));
      } finally {
        await server.close();
      }
    });
  }

  it('expects SubscribeResponse{result: {}} as the two bytes 0a 00', () => {
    assert.equal(EMPTY_RESULT_MESSAGE.toString('hex'), '0a00');
  });
});

describe('storm schedule (bench/lib/storm.ts)', () => {
  const tokens = Array.from({ length: 100 }, (_, i) => `t${i}`);

  it('makes every fifth request a new user and the others repeats of users already seen', () => {
    const schedule = stormSchedule(tokens, 250);
    assert.equal(schedule.length, 250);
    assert.equal(schedule.filter((r) => r.first).length, 50);
    const seen = new Set<string>();
    schedule.forEach((request, i) => {
      assert.equal(request.first, i % 5 === 0, `request ${i}`);
      if (request.first) {
        assert.ok(!seen.has(request.body), `request ${i} is a first connect of a token seen before`);
        seen.add(request.body);
      } else assert.ok(seen.has(request.body), `request ${i} repeats a token not seen yet`);
    });
  });

  it('keeps the mix in every second: a fifth of each 1,000-request slice are first connects', () => {
    const schedule = stormSchedule(Array.from({ length: 1000 }, (_, i) => `t${i}`), 5000);
    for (let start = 0; start < 5000; start += 1000) assert.equal(schedule.slice(start, start + 1000).filter((r) => r.first).length, 200);
  });

  it('refuses a pool too small for the first connects', () => {
    assert.throws(() => stormSchedule(tokens, 501), /needs 101 tokens, the pool has 100/);
  });
});

describe('policy bench workload (bench/policy.ts)', () => {
  const implicitDenyOnAll = (rules: readonly { ptype: string; values: readonly string[] }[]) =>
    rules.filter((r) => r.ptype === 'p' && ['authenticated', 'anonymous'].includes(r.values[0] as string) && r.values[1] === '*' && r.values[3] === 'deny');

  it('drops the implicit-role deny lines on * that make the generated 10k policy deny everything', async () => {
    const raw = generatePolicy(11, 10_000);
    assert.ok(implicitDenyOnAll(raw.source.rules).length > 0, 'the generator no longer draws them: the filter is moot');
    const bench = benchPolicy(11, 10_000);
    assert.deepEqual(implicitDenyOnAll(bench.source.rules), []);
    assert.equal(bench.source.rules.length, raw.source.rules.length - implicitDenyOnAll(raw.source.rules).length);

    const share = async (g: typeof raw) => {
      const engine = await IndexedEngine.build(g.source);
      const requests = g.requests(2000);
      return requests.filter((q) => engine.decide(q)).length / requests.length;
    };
    assert.ok((await share(raw)) < 0.05, 'the raw policy is (nearly) all-deny');
    const allowed = await share(bench);
    assert.ok(allowed >= 0.3 && allowed <= 0.7, `allowed share ${allowed}`);
  });
});

describe('memory from /proc (bench/lib/proc-memory.ts)', () => {
  it('reads VmRSS and VmHWM of a live process in MiB', () => {
    const memory = memoryOf(process.pid);
    assert.ok(memory.rssMiB > 10 && memory.rssMiB < 4096, `rss ${memory.rssMiB}`);
    assert.ok(memory.peakMiB >= memory.rssMiB);
    assert.equal(mib(199.96), '200.0 MiB');
  });
});
