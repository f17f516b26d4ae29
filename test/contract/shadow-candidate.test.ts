/**
 * Safe rollouts over both transports: shadow mode answers allow whatever the policy says (and
 * logs what it would have done); a candidate policy is compared on real traffic without
 * changing any answer; the decision log names the deciding rule and never carries a token.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { grpcToJson, jsonToGrpcRequest, ROOT, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { HMAC_SECRET, signJwt } from '../helpers/tokens.js';

const ALLOW = '{"result":{}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const publish = (user: string, channel: string) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, data: { text: 'hi' }, meta: { roles: ['role:member'] } });
const POLICY = `${ROOT}/policies/policy.csv`;
const denyLine = readFileSync(POLICY, 'utf8').split('\n').findIndex((l) => l.startsWith('p, 666, *, publish, deny')) + 1;

/** A logger whose JSON lines the test can read. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

async function both(h: Harness, body: string): Promise<string> {
  const http = (await h.http('/centrifugo/publish', body)).body;
  assert.equal(JSON.stringify(grpcToJson(await h.call('Publish', jsonToGrpcRequest(body)))), http, 'GRPC agrees with HTTP');
  return http;
}

describe('shadow mode, candidate policy and decision log', () => {
  const started: Harness[] = [];
  after(() => Promise.all(started.map((h) => h.stop())));

  it('enforce: a deny is answered 403 and logged with its rule, version and no payload', async () => {
    const { lines, log } = capturedLog();
    const h = await startHarness(testConfigYaml(), { log });
    started.push(h);
    assert.equal(await both(h, publish('666', 'chat:lobby')), DENY);
    const logged = lines.filter((l) => l.msg === 'decision');
    assert.equal(logged.length, 2, 'one line per decision (HTTP and GRPC)');
    assert.deepEqual(
      { ...logged[0], time: undefined, pid: undefined, hostname: undefined, level: undefined },
      {
        time: undefined,
        pid: undefined,
        hostname: undefined,
        level: undefined,
        component: 'decision_log',
        msg: 'decision',
        decision: 'deny',
        user: '666',
        roles: ['role:member'],
        action: 'publish',
        object: 'chat:lobby',
        rule: `${POLICY}:${denyLine}: p, 666, *, publish, deny`,
        policy_version: h.app.policy.current().version,
      },
    );
    assert.ok(!JSON.stringify(lines).includes('"hi"'), 'publication data never logged');
  });

  it('enforce: a refused connect logs the policy question, never the token', async () => {
    const { lines, log } = capturedLog();
    const h = await startHarness(testConfigYaml(`auth: { jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" } }`), { log });
    started.push(h);
    const token = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: '13', roles: ['role:banned'], exp: Math.floor(Date.now() / 1000) + 600 }, { alg: 'HS256', secret: HMAC_SECRET });
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token } });
    assert.equal((await h.http('/centrifugo/connect', body)).body, '{"disconnect":{"code":4503,"reason":"forbidden"}}');
    assert.ok(lines.some((l) => l.msg === 'decision' && l.decision === 'deny' && l.user === '13' && l.action === 'connect'));
    assert.ok(!JSON.stringify(lines).includes(token) && !JSON.stringify(lines).includes(token.split('.')[2] as string), 'no token in any log line');
  });

  it('shadow: the policy denies, the answer is allow on both transports, the log says so', async () => {
    const { lines, log } = capturedLog();
    const h = await startHarness(testConfigYaml('', '').replace('policy:\n', 'policy:\n  mode: shadow\n'), { log });
    started.push(h);
    assert.equal(await both(h, publish('666', 'chat:lobby')), ALLOW);
    const logged = lines.find((l) => l.msg === 'decision');
    assert.equal(logged?.decision, 'deny');
    assert.equal(logged?.answered, 'allow (shadow mode)');
  });

  it('candidate: disagreements are logged and counted, answers follow the live policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-candidate-'));
    copyFileSync(`${ROOT}/policies/model.conf`, join(dir, 'model.conf'));
    // The candidate lifts the ban on 666 and bans 57 from publishing.
    const candidateCsv = readFileSync(POLICY, 'utf8').replace('p, 666, *, publish, deny', 'p, 57, *, publish, deny');
    writeFileSync(join(dir, 'policy.csv'), candidateCsv);
    const { lines, log } = capturedLog();
    const h = await startHarness(testConfigYaml().replace('policy:\n', `policy:\n  candidate: ${dir}\n`), { log });
    started.push(h);
    assert.equal(await both(h, publish('666', 'chat:lobby')), DENY);
    assert.equal(await both(h, publish('57', 'chat:lobby')), ALLOW);
    assert.equal(await both(h, publish('58', 'chat:lobby')), ALLOW);
    const disagreements = lines.filter((l) => l.msg === 'candidate policy disagrees');
    assert.deepEqual(
      disagreements.map((l) => [l.user, l.live, l.candidate]),
      [
        ['666', 'deny', 'allow'],
        ['666', 'deny', 'allow'],
        ['57', 'allow', 'deny'],
        ['57', 'allow', 'deny'],
      ],
    );
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
    assert.match(metrics, /^cpp_policy_candidate_disagreements_total\{action="publish",live="deny",candidate="allow"\} 2$/m);
    assert.match(metrics, /^cpp_policy_candidate_disagreements_total\{action="publish",live="allow",candidate="deny"\} 2$/m);
  });
});
