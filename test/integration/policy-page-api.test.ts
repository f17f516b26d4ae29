/**
 * The policy page's JSON API on its own listener: access (token as Bearer or login cookie,
 * loopback Host without a token), answers equal to the CLI's `explain --json` and
 * `test --json --coverage`, a reload shown at once, and candidate disagreements asked over
 * both transports. The config checks that keep the page off the network without a token.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { runCli } from '../../src/cli/main.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { DisagreementRing } from '../../src/policy/disagreements.js';
import pino from 'pino';
import { logCapture } from '../helpers/log-capture.js';
import { grpcToJson, jsonToGrpcRequest, ROOT, startHarness, testConfigYaml, writeConfig, type Harness } from '../helpers/harness.js';

const TOKEN = 'page-token-0123456789abcdef';
const NOW = Date.UTC(2030, 0, 1);
const CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const UNAUTHORIZED = '{"error":"unauthorized: send Authorization: Bearer <policy_page.token>"}';

/** A copy of the shipped policy (tests edit it) and a candidate that bans 57 instead of 666. */
function policyDirs() {
  const live = mkdtempSync(join(tmpdir(), 'cpp-page-live-'));
  const candidate = mkdtempSync(join(tmpdir(), 'cpp-page-candidate-'));
  const csv = readFileSync(`${ROOT}/policies/policy.csv`, 'utf8');
  for (const dir of [live, candidate]) copyFileSync(`${ROOT}/policies/model.conf`, join(dir, 'model.conf'));
  writeFileSync(join(live, 'policy.csv'), csv);
  writeFileSync(join(candidate, 'policy.csv'), csv.replace('p, 666, *, publish, deny', 'p, 57, *, publish, deny'));
  return { live, candidate };
}

function pageConfig(page: string, dirs = policyDirs()): string {
  return testConfigYaml(`policy_page: { enabled: true, port: 0, ${page} }`)
    .replace(`model: ${ROOT}/policies/model.conf`, `model: ${dirs.live}/model.conf`)
    .replace(`policy: ${ROOT}/policies/policy.csv`, `policy: ${dirs.live}/policy.csv\n  candidate: ${dirs.candidate}\n  watch: false`);
}

async function cliJson(args: string[]): Promise<unknown> {
  const out: string[] = [];
  await runCli(args, { log: (l) => out.push(l), error: () => undefined });
  return JSON.parse(out.join('\n'));
}

const publish = (user: string, channel: string) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, data: {}, meta: { roles: ['role:member'] } });

/** A GET with a chosen Host header (fetch does not let a caller set it). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('policy page JSON API', () => {
  let h: Harness;
  let base = '';
  let clock = NOW;
  const logs = logCapture();
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const get = (path: string, headers: Record<string, string> = bearer) => fetch(`${base}${path}`, { headers, redirect: 'manual' });

  before(async () => {
    h = await startHarness(pageConfig(`token: "${TOKEN}"`), { now: () => clock, log: pino({ level: 'debug' }, logs.stream) });
    base = `http://127.0.0.1:${h.policyPagePort}`;
  });
  after(() => h.stop());

  it('refuses the API without the token, with a wrong one, and sends the page to the login form', async () => {
    const refusedHeaders: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Basic ${TOKEN}` }, { cookie: `cpp_policy_page=${TOKEN}` }];
    for (const headers of refusedHeaders) {
      const res = await get('/api/policy', headers);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.equal(await res.text(), UNAUTHORIZED);
    }
    const page = await get('/', {});
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login');
    const ok = await get('/api/policy');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-security-policy'), CSP);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
  });

  it('the login form sets an HttpOnly, SameSite=Strict session cookie that expires and cannot be forged', async () => {
    const wrong = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: 'not-the-token-0123456789' }), redirect: 'manual' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.match(await wrong.text(), /<p id="refused">That token is not the policy page's token\.<\/p>/);
    const right = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    assert.equal(right.status, 303);
    assert.equal(right.headers.get('location'), '/');
    const setCookie = right.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^cpp_policy_page=\d+\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token');
    const cookie = setCookie.split(';')[0] as string;
    assert.equal((await get('/api/policy', { cookie })).status, 200);
    assert.equal((await get('/', { cookie })).status, 200);
    const [expires, mac] = cookie.slice('cpp_policy_page='.length).split('.') as [string, string];
    assert.equal((await get('/api/policy', { cookie: `cpp_policy_page=${Number(expires) + 3600}.${mac}` })).status, 401, 'a later expiry with the same MAC');
    clock = NOW + 8 * 3600 * 1000 + 1000;
    try {
      assert.equal((await get('/api/policy', { cookie })).status, 401, 'expired after 8 hours');
    } finally {
      clock = NOW;
    }
    const out = await fetch(`${base}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    assert.equal(out.headers.get('set-cookie'), 'cpp_policy_page=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    assert.ok(!JSON.stringify(logs.lines).includes(TOKEN), 'the token is never logged');
  });

  it('/api/explain answers exactly what explain --json prints, for any question', async () => {
    const questions = [
      { user: '56', roles: 'role:member', action: 'publish', object: 'chat:lobby' },
      { user: '666', roles: 'role:member', action: 'publish', object: 'chat:lobby' },
      { user: '', roles: '', action: 'connect', object: '' },
      { user: '56', roles: 'role:guest, role:member', action: 'publsh', object: 'chat:<script>alert(1)</script>' },
      { user: 'role:admin', roles: '', action: 'subscribe', object: 'personal:role:admin' },
    ];
    for (const q of questions) {
      const page = await (await get(`/api/explain?${new URLSearchParams(q)}`)).json();
      const cli = await cliJson(['explain', '--config', h.configFile, '--user', q.user, '--roles', q.roles, '--action', q.action, '--object', q.object, '--json']);
      assert.deepEqual(page, cli, JSON.stringify(q));
    }
    const missing = await get('/api/explain?user=56&action=subscribe');
    assert.equal(missing.status, 400);
    assert.equal(await missing.text(), '{"error":"object is required (user may be \\"\\" for anonymous, object \\"\\" for connect and refresh)"}');
  });

  it('/api/tests answers what test --json --coverage prints, with the coverage report lines', async () => {
    const page = (await (await get('/api/tests')).json()) as Record<string, unknown>;
    const { coverage_lines: lines, ...report } = page;
    assert.deepEqual(report, await cliJson(['test', '--config', h.configFile, '--json', '--coverage']));
    const text: string[] = [];
    await runCli(['test', '--config', h.configFile, '--coverage'], { log: (l) => text.push(l), error: () => undefined });
    assert.deepEqual(lines, text.slice(0, -1), 'the text report without its "N passed, N failed" line');
    assert.match(String((lines as string[])[0]), /^coverage: \d+ of \d+ rule lines exercised by \d+ cases$/);
  });

  it('/api/policy shows every rule with file:line, and a reload shows the new version at once', async () => {
    const before = (await (await get('/api/policy')).json()) as { policy_version: string; rules: Array<{ file: string; line: number; rule: string }>; candidate_version: string };
    assert.equal(before.policy_version, h.app.policy.current().version);
    const file = h.app.config.policy.policy;
    const first = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith('p, ')) + 1;
    assert.deepEqual(before.rules[0], { file, line: first, rule: 'p, authenticated, *, connect, allow' });
    assert.match(before.candidate_version, /^[0-9a-f]+$/);
    appendFileSync(file, 'p, role:auditor, audit:*, subscribe, allow\n');
    const lineCount = readFileSync(file, 'utf8').split('\n').length - 1;
    assert.equal((await h.app.policy.reload('test')).result, 'loaded');
    const after = (await (await get('/api/policy')).json()) as typeof before;
    assert.notEqual(after.policy_version, before.policy_version);
    assert.equal(after.policy_version, h.app.policy.current().version);
    assert.deepEqual(after.rules.at(-1), { file, line: lineCount, rule: 'p, role:auditor, audit:*, subscribe, allow' });
    const explained = (await (await get('/api/explain?user=9&roles=role:auditor&action=subscribe&object=audit:x')).json()) as { decision: string; policy_version: string };
    assert.deepEqual([explained.decision, explained.policy_version], ['allow', after.policy_version]);
  });

  it('/api/disagreements lists the candidate disagreements asked over HTTP and GRPC, newest first', async () => {
    const body = publish('666', 'chat:lobby');
    assert.equal((await h.http('/centrifugo/publish', body)).body, '{"error":{"code":403,"message":"permission denied"}}');
    assert.deepEqual(grpcToJson(await h.call('Publish', jsonToGrpcRequest(publish('57', 'chat:<b>x</b>')))), { result: {} });
    const got = (await (await get('/api/disagreements')).json()) as Record<string, unknown>;
    const versions = { policy_version: h.app.policy.current().version, candidate_version: got.candidate_version };
    const at = new Date(NOW).toISOString();
    assert.deepEqual(got, {
      candidate_version: versions.candidate_version,
      capacity: 100,
      total: 2,
      disagreements: [
        { at, user: '57', roles: ['role:member'], action: 'publish', object: 'chat:<b>x</b>', live: 'allow', candidate: 'deny', ...versions },
        { at, user: '666', roles: ['role:member'], action: 'publish', object: 'chat:lobby', live: 'deny', candidate: 'allow', ...versions },
      ],
    });
  });

  it('is read-only: no other method reaches the API', async () => {
    const version = h.app.policy.current().version;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${base}/api/policy`, { method, headers: bearer });
      assert.equal(res.status, 404, method);
      assert.equal(await res.text(), '{"error":"not found"}');
    }
    assert.equal(h.app.policy.current().version, version);
  });
});

describe('policy page without a token (loopback only)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(pageConfig(''));
  });
  after(() => h.stop());

  it('answers requests addressed to a loopback host and refuses any other Host (DNS rebinding)', async () => {
    const port = h.policyPagePort as number;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) assert.equal((await getWithHost(port, '/api/policy', host)).status, 200, host);
    const refused = await getWithHost(port, '/api/policy', `attacker.example:${port}`);
    assert.deepEqual(refused, { status: 403, body: '{"error":"the policy page without a token answers only requests addressed to a loopback host"}' });
    assert.equal((await getWithHost(port, '/', 'attacker.example')).status, 403);
  });
});

describe('policy page config', () => {
  const problems = (page: string): readonly string[] => {
    try {
      parseConfig(testConfigYaml(`policy_page: ${page}`), '/cfg.yaml');
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems;
    }
  };

  it('refuses a page on a non-loopback host without a token, a short token, and a port shared with the proxy', () => {
    assert.deepEqual(problems('{ enabled: true, host: 0.0.0.0 }'), [
      '/cfg.yaml: policy_page.token: required when policy_page.host is not a loopback address (got "0.0.0.0"): set a token of at least 16 bytes, or host: 127.0.0.1',
    ]);
    assert.deepEqual(problems('{ enabled: true, token: short }'), ['/cfg.yaml: policy_page.token: must be at least 16 bytes']);
    const onHttpPort = testConfigYaml('policy_page: { enabled: true, port: 3000 }').replace('http: { port: 0', 'http: { port: 3000');
    assert.throws(() => parseConfig(onHttpPort, '/cfg.yaml'), (err: ConfigError) => {
      assert.deepEqual(err.problems, ['/cfg.yaml: policy_page.port: must differ from http.port and grpc.port']);
      return true;
    });
    assert.deepEqual(problems(`{ enabled: true, host: 0.0.0.0, token: "${TOKEN}" }`), []);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.deepEqual(problems(`{ enabled: true, host: "${host}" }`), [], host);
    assert.deepEqual(problems('{ enabled: false, host: 0.0.0.0 }'), [], 'off: nothing listens');
    assert.deepEqual(problems('{ enabled: true, colour: blue }'), ['/cfg.yaml: policy_page.colour: unknown key']);
  });

  it('the example in docs/policies.md is a valid config, and the bundled config keeps the page off', () => {
    const docs = readFileSync(`${ROOT}/docs/policies.md`, 'utf8');
    const example = /```yaml\n(policy_page:\n[^`]*)```/.exec(docs)?.[1] ?? '';
    assert.match(example, /enabled: true/);
    const config = parseConfig(testConfigYaml(example), '/cfg.yaml', { POLICY_PAGE_TOKEN: TOKEN });
    assert.deepEqual(config.policy_page, { enabled: true, host: '127.0.0.1', port: 9102, token: TOKEN, disagreements: 100 });
    const bundled = parseConfig(readFileSync(`${ROOT}/config/default.yaml`, 'utf8'), `${ROOT}/config/default.yaml`, {});
    assert.deepEqual(bundled.policy_page, { enabled: false, host: '127.0.0.1', port: 9102, token: '', disagreements: 100 });
  });

  it('a taken port fails start with the config key to change', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as AddressInfo).port;
    const yaml = testConfigYaml(`policy_page: { enabled: true, port: ${port} }`);
    const app = buildApp(parseConfig(yaml, writeConfig(yaml)), { log: pino({ level: 'silent' }) });
    try {
      await assert.rejects(app.start(), { message: `policy_page listener on 127.0.0.1:${port} failed: the port is in use (choose another with policy_page.port)` });
    } finally {
      await app.stop();
      taken.close();
    }
  });

  it('is off by default: no listener', async () => {
    const h = await startHarness(testConfigYaml());
    try {
      assert.equal(h.policyPagePort, undefined);
      assert.equal(h.app.config.policy_page.port, 9102);
    } finally {
      await h.stop();
    }
  });
});

describe('disagreement ring', () => {
  it('keeps the latest N, newest first, and counts every one', () => {
    const ring = new DisagreementRing(2);
    const versions = { live: 'v1', candidate: 'v2' };
    for (const object of ['a', 'b', 'c']) ring.record({ user: 'u', roles: [], action: 'rpc', object }, true, false, versions, new Date(NOW));
    assert.deepEqual(ring.latest().map((d) => d.object), ['c', 'b']);
    assert.equal(ring.total(), 3);
  });
});
