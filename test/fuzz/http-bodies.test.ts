/**
 * Fuzzed HTTP proxy requests to every event endpoint (fast-check, seeded: FUZZ_SEED, FUZZ_RUNS):
 * valid requests mutated (unknown fields, wrong types, missing fields, corrupted tokens, huge
 * strings, invalid UTF-8, wrong content types, deep nesting) and random JSON and bytes. Never a
 * 5xx, never an allow for a connect without a valid token, and each input whose answer is known
 * gets exactly that answer (the template's decision, or the 400/413/415 the contract names).
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { eachConcurrently, fuzzSettings } from '../helpers/fuzz-seed.js';
import { startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { trafficCase, trafficConfigYaml } from '../helpers/traffic.js';

const BODY_LIMIT = 65536;
const EVENTS = ['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc'] as const;
type Event = (typeof EVENTS)[number];

interface Template {
  readonly event: Event;
  readonly fields: Record<string, unknown>;
  readonly expected: string;
}

/** Valid requests of every event with their exact answers (traffic.ts has four events; refresh and sub_refresh here). */
const TEMPLATES: readonly Template[] = [
  ...Array.from({ length: 14 }, (_, i) => trafficCase(i)).map((c) => ({ event: c.event, fields: JSON.parse(c.body) as Record<string, unknown>, expected: c.expected })),
  { event: 'refresh', fields: { client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '' }, expected: '{"result":{"expired":true}}' },
  { event: 'sub_refresh', fields: { client: 'c', user: 'u1', channel: 'secret:x', meta: { roles: ['role:member'] } }, expected: '{"result":{"expired":true}}' },
];

/** The one token that verifies (the connect template that is allowed): any other connect must not be. */
const VALID_TOKEN = Buffer.from((TEMPLATES.find((t) => t.event === 'connect' && t.expected.startsWith('{"result"'))?.fields.data as { token: string }).token);

/** Fields each event reads as strings (a wrong type there is a 400 naming the field). */
const STRING_FIELDS: Record<Event, string[]> = {
  connect: ['client', 'transport', 'protocol', 'encoding', 'name', 'version'],
  refresh: ['client', 'transport', 'protocol', 'encoding', 'user'],
  subscribe: ['client', 'transport', 'protocol', 'encoding', 'user', 'channel', 'b64data'],
  publish: ['client', 'transport', 'protocol', 'encoding', 'user', 'channel', 'b64data'],
  sub_refresh: ['client', 'transport', 'protocol', 'encoding', 'user', 'channel'],
  rpc: ['client', 'transport', 'protocol', 'encoding', 'user', 'method', 'b64data'],
};
const REQUIRED: Record<Event, string[]> = {
  connect: ['client'],
  refresh: ['client', 'user'],
  subscribe: ['client', 'user', 'channel'],
  publish: ['client', 'user', 'channel'],
  sub_refresh: ['client', 'user', 'channel'],
  rpc: ['client', 'user'],
};

/** What the answer must be: exact status and body, a status only, or just the invariants. */
type Expect = { status: number; body?: string } | { invariants: true };

interface Sample {
  readonly kind: string;
  readonly event: Event;
  readonly contentType: string;
  readonly body: Buffer;
  readonly expect: Expect;
}

const refusal = (status: number, error: string): Expect => ({ status, body: JSON.stringify({ error }) });
const json = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields));
const sized = (body: Buffer, expect: Expect): Expect => (body.length > BODY_LIMIT ? refusal(413, `body larger than ${BODY_LIMIT} bytes`) : expect);
const sample = (kind: string, event: Event, body: Buffer, expect: Expect, contentType = 'application/json'): Sample => ({ kind, event, contentType, body, expect: sized(body, expect) });

const template = fc.constantFrom(...TEMPLATES);
/** Keys no Centrifugo request has (Centrifugo adds fields in new versions: they must be ignored). */
const unknownKey = fc.string({ minLength: 1, maxLength: 12 }).map((k) => `x_${k}`);
const notString = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }));
const badContentType = fc.oneof(
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', 'text/json', 'application/octet-stream'),
  fc.string({ maxLength: 30 }).filter((t) => !t.trim().toLowerCase().startsWith('application/json') && /^[\x21-\x7e]*$/.test(t) && t.length > 0),
);
const INVALID_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xe2, 0x82])];

const samples = fc.oneof(
  // Unknown fields are ignored: the template's own answer.
  fc.tuple(template, fc.dictionary(unknownKey, fc.jsonValue({ maxDepth: 4 }), { minKeys: 1, maxKeys: 5 })).map(([t, extra]) =>
    sample('unknown fields', t.event, json({ ...extra, ...t.fields }), { status: 200, body: t.expected }),
  ),
  // A field read as a string gets another type.
  fc.tuple(template, fc.nat(), notString).map(([t, pick, value]) => {
    const present = STRING_FIELDS[t.event].filter((f) => f in t.fields || f === 'b64data' || f === 'name' || f === 'version');
    const field = present[pick % present.length] as string;
    return sample('wrong type', t.event, json({ ...t.fields, [field]: value }), refusal(400, `field "${field}" must be a string`));
  }),
  // A required field missing or empty.
  fc.tuple(template, fc.nat(), fc.boolean()).map(([t, pick, empty]) => {
    const field = REQUIRED[t.event][pick % REQUIRED[t.event].length] as string;
    const fields = { ...t.fields };
    if (empty && field !== 'user') fields[field] = '';
    else delete fields[field];
    return sample('missing field', t.event, json(fields), refusal(400, `field "${field}" is required`));
  }),
  // A connect token with one character changed, cut short, or replaced: never an allow.
  fc.tuple(fc.constantFrom(...TEMPLATES.filter((t) => t.event === 'connect')), fc.nat(), fc.constantFrom(...'ABCxyz019-_.'), fc.constantFrom('change', 'cut', 'random')).chain(([t, at, ch, how]) =>
    fc.string({ maxLength: 200 }).map((random) => {
      const token = (t.fields.data as { token: string }).token;
      const [head, payload] = token.split('.') as [string, string];
      const i = head.length + 1 + (at % payload.length);
      const changed = how === 'change' ? token.slice(0, i) + (token[i] === ch ? (ch === 'A' ? 'B' : 'A') : ch) + token.slice(i + 1) : how === 'cut' ? token.slice(0, i) : random;
      return sample('corrupted token', 'connect', json({ ...t.fields, data: { token: changed } }), { status: 200, body: '{"disconnect":{"code":4501,"reason":"unauthorized"}}' });
    }),
  ),
  // A content type that is not JSON.
  fc.tuple(template, badContentType).map(([t, type]) => sample('content type', t.event, json(t.fields), refusal(415, 'content-type must be application/json'), type)),
  // Huge strings: in an ignored field (then the answer is the template's, or 413), or past the limit.
  fc.tuple(template, fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom('x', 'é', '\u{1F600}', '"')).map(([t, n, ch]) =>
    sample('huge string', t.event, json({ ...t.fields, x_huge: ch.repeat(n) }), { status: 200, body: t.expected }),
  ),
  // Invalid UTF-8 inside an ignored string: decoded with replacement characters, the template's answer.
  fc.tuple(template, fc.constantFrom(...INVALID_UTF8)).map(([t, bad]) => {
    const [left, right] = JSON.stringify({ x_text: '<>', ...t.fields }).split('<>') as [string, string];
    return sample('invalid utf-8 in a value', t.event, Buffer.concat([Buffer.from(left), bad, Buffer.from(right)]), { status: 200, body: t.expected });
  }),
  // Invalid UTF-8 anywhere: any answer but a 5xx.
  fc.tuple(template, fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([t, bad, at]) => {
    const body = json(t.fields);
    const i = at % body.length;
    return sample('invalid utf-8 anywhere', t.event, Buffer.concat([body.subarray(0, i), bad, body.subarray(i)]), { invariants: true });
  }),
  // Deep nesting in rpc data (issue 14, finding 8): bad input, 400.
  fc.tuple(fc.constantFrom(...TEMPLATES.filter((t) => t.event === 'rpc')), fc.integer({ min: 2000, max: 10_000 }), fc.constantFrom('[]', '{"a":}')).map(([t, depth, shape]) => {
    const [open, close] = shape === '[]' ? ['[', ']'] : ['{"a":', '}'];
    const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
    const text = JSON.stringify({ ...t.fields, data: '<>' }).replace('"<>"', deep);
    return sample('deep nesting', 'rpc', Buffer.from(text), { status: 400 });
  }),
  // Random JSON values: not an object is a 400; an object without `client` too.
  fc.tuple(fc.constantFrom(...EVENTS), fc.jsonValue({ maxDepth: 5 })).map(([event, value]) => {
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    const expect: Expect = !isObject ? refusal(400, 'body must be a JSON object') : 'client' in value ? { invariants: true } : refusal(400, 'field "client" is required');
    return sample('random json', event, Buffer.from(JSON.stringify(value)), expect);
  }),
  // Random bytes: a 400 unless they happen to be JSON.
  fc.tuple(fc.constantFrom(...EVENTS), fc.uint8Array({ maxLength: 300 })).map(([event, bytes]) => {
    const body = Buffer.from(bytes);
    let parses = true;
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      parses = false;
    }
    return sample('random bytes', event, body, parses ? { invariants: true } : refusal(400, 'body is not valid JSON'));
  }),
);

/** Why an answer is not acceptable for the sample, or undefined. */
function judge(s: Sample, status: number, body: string): string | undefined {
  if (status >= 500) return `a ${status}`;
  if (![200, 400, 413, 415].includes(status)) return `status ${status}`;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return 'an answer that is not JSON';
  }
  if (status === 200 && s.event === 'connect' && 'result' in parsed && !s.body.includes(VALID_TOKEN)) return 'a connect allowed without a valid token';
  // A decision of 500 (internal error) is a 5xx too, only wrapped in a 200.
  const decisionCode = (parsed.error as { code?: number } | undefined)?.code;
  if (status === 200 && decisionCode !== undefined && decisionCode >= 500) return `a decision with error ${decisionCode}`;
  if ('invariants' in s.expect) return undefined;
  if (status !== s.expect.status) return `status ${status}, expected ${s.expect.status}`;
  if (s.expect.body !== undefined && body !== s.expect.body) return `body ${body.slice(0, 200)}, expected ${s.expect.body}`;
  return undefined;
}

describe('fuzz: HTTP proxy request bodies', () => {
  let upstream: EchoUpstream;
  let h: Harness;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const post = (path: string, headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${h.httpUrl}${path}`, { method: 'POST', agent, headers, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
      req.end(body);
    });
  before(async () => {
    upstream = await startEchoUpstream();
    h = await startHarness(testConfigYaml(trafficConfigYaml(upstream.url), `, body_limit: ${BODY_LIMIT}`));
  });
  after(async () => {
    agent.destroy();
    await h?.stop();
    await upstream?.close();
  });

  it('no 5xx, no allow without a valid token, and the right answer for every input whose answer is known', async () => {
    const { seed, runs } = fuzzSettings('http bodies', 10_000);
    const inputs = fc.sample(samples, { seed, numRuns: runs });
    const problems: string[] = [];
    const kinds: Record<string, number> = {};
    await eachConcurrently(inputs, 16, async (s, i) => {
      kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
      const headers: Record<string, string> = s.contentType === '' ? {} : { 'content-type': s.contentType };
      let res: { status: number; body: string };
      try {
        res = await post(`/centrifugo/${s.event}`, headers, s.body);
      } catch (err) {
        problems.push(`#${i} ${s.kind} ${s.event}: no answer (${(err as Error).message})`);
        return;
      }
      const problem = judge(s, res.status, res.body);
      if (problem) problems.push(`#${i} ${s.kind} ${s.event}: ${problem}; sent ${s.body.subarray(0, 300).toString('utf8')}`);
    });
    const byKind: Record<string, number> = {};
    const firstOfKind: string[] = [];
    for (const p of problems) {
      const kind = /^#\d+ ([^:]+?) \w+:/.exec(p)?.[1] ?? 'other';
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      if (byKind[kind] === 1) firstOfKind.push(p.slice(0, 400));
    }
    console.log(JSON.stringify({ fuzz: 'http bodies', seed, sent: inputs.length, kinds, problems: problems.length, problemsByKind: byKind }));
    assert.equal(inputs.length, runs);
    assert.deepEqual(firstOfKind, [], `seed ${seed}: ${problems.length} problems`);
  });
});
