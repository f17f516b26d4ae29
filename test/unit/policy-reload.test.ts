/**
 * Hot reload as security teams use it: an edit goes live within a second; a broken edit, or one
 * that fails the policy's own test cases, changes nothing, keeps the service ready and is
 * reported in /readyz, the log and metrics. Also a policy split over a directory of CSV files,
 * and a policy mounted from a Kubernetes ConfigMap (files are symlinks into a `..data` folder
 * that the kubelet swaps: the files' own names never see an event).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { grpcToJson, jsonToGrpcRequest, ROOT, startHarness, type Harness } from '../helpers/harness.js';

const ALLOW = '{"result":{}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const SHIPPED = readFileSync(join(ROOT, 'policies/policy.csv'), 'utf8');
const subscribe = (user: string, channel: string, roles: string[] = ['role:member']) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, meta: { roles } });

/** A copy of the shipped policies in a temp dir, served with watching on. */
async function servedCopy(options: { split?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-reload-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  mkdirSync(join(dir, 'tests'));
  copyFileSync(join(ROOT, 'policies/tests/default.yaml'), join(dir, 'tests/default.yaml'));
  let policyPath = join(dir, 'policy.csv');
  if (options.split) {
    policyPath = join(dir, 'policy.d');
    mkdirSync(policyPath);
    writeFileSync(join(policyPath, '10-shipped.csv'), SHIPPED);
  } else {
    writeFileSync(policyPath, SHIPPED);
  }
  const h = await startHarness(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${dir}/model.conf, policy: ${policyPath}, tests: ${dir}/tests, watch: true, debounce: 50ms }
log: { level: silent }
`);
  return { dir, policyPath, h };
}

/** Both transports give `expected` for this subscribe. */
async function answers(h: Harness, body: string): Promise<string> {
  const http = (await h.http('/centrifugo/subscribe', body)).body;
  const grpc = JSON.stringify(grpcToJson(await h.call('Subscribe', jsonToGrpcRequest(body))));
  assert.equal(grpc, http, 'GRPC and HTTP agree');
  return http;
}

/**
 * Polls until both transports give `expected`. While polling, a swap may land between the HTTP
 * and the GRPC call, so the two may briefly differ; once the swap is in, they must agree.
 */
async function becomes(h: Harness, body: string, expected: string): Promise<void> {
  await within(1000, async () => (await h.http('/centrifugo/subscribe', body)).body === expected);
  assert.equal(await answers(h, body), expected);
}

/** Polls `check` until it holds; throws (failing the test) once `ms` have passed without. */
async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not within ${ms} ms`);
}

async function readyz(h: Harness) {
  const response = await fetch(`${h.httpUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function metric(h: Harness, line: RegExp): Promise<number> {
  const match = line.exec(await (await fetch(`${h.httpUrl}/metrics`)).text());
  return match ? Number(match[1]) : 0;
}

describe('policy hot reload', () => {
  const started: Harness[] = [];
  after(() => Promise.all(started.map((h) => h.stop())));

  it('a valid edit is live within a second on both transports', async () => {
    const { policyPath, h } = await servedCopy();
    started.push(h);
    const before = h.app.policy.current().version;
    assert.equal(await answers(h, subscribe('56', 'chat:lobby')), ALLOW);
    writeFileSync(policyPath, `${SHIPPED}\np, 56, chat:lobby, subscribe, deny\n`);
    // The second: `within` fails the test if the deny is not served 1000 ms after the write.
    await becomes(h, subscribe('56', 'chat:lobby'), DENY);
    assert.notEqual(h.app.policy.current().version, before);
    assert.equal(await answers(h, subscribe('57', 'chat:lobby')), ALLOW, 'others unaffected');
    assert.equal(await metric(h, /^cpp_policy_reloads_total\{result="loaded"\} (\d+)$/m), 1);
  });

  it('a broken edit keeps the last good policy, stays ready and says where the problem is', async () => {
    const { policyPath, h } = await servedCopy();
    started.push(h);
    const good = h.app.policy.current().version;
    writeFileSync(policyPath, `${SHIPPED}\np, 56, chat:lobby, subscribe, alow\n`);
    await within(1000, async () => h.app.policy.lastFailure() !== undefined);
    const line = SHIPPED.split('\n').length + 1;
    assert.equal(h.app.policy.current().version, good);
    assert.equal(await answers(h, subscribe('56', 'chat:lobby')), ALLOW);
    const ready = await readyz(h);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
    assert.equal(ready.body.policy_version, good);
    assert.equal((ready.body.last_reload_error as { error: string }).error, `${policyPath}:${line}: effect must be "allow" or "deny", got "alow"`);
    assert.equal(await metric(h, /^cpp_policy_reloads_total\{result="failed"\} (\d+)$/m), 1);

    // Fixing the file clears the error and applies the change.
    writeFileSync(policyPath, `${SHIPPED}\np, 56, chat:lobby, subscribe, deny\n`);
    await becomes(h, subscribe('56', 'chat:lobby'), DENY);
    assert.equal((await readyz(h)).body.last_reload_error, undefined);
  });

  it('an edit that fails the policy test cases is refused', async () => {
    const { policyPath, h } = await servedCopy();
    started.push(h);
    const good = h.app.policy.current().version;
    // The shipped tests expect members to read every chat room.
    writeFileSync(policyPath, `${SHIPPED}\np, role:member, chat:*, subscribe, deny\n`);
    await within(1000, async () => h.app.policy.lastFailure() !== undefined);
    assert.equal(h.app.policy.current().version, good);
    assert.equal(await answers(h, subscribe('56', 'chat:lobby')), ALLOW);
    assert.match(h.app.policy.lastFailure()?.error ?? '', /policy test problem\(s\): FAIL .*default\.yaml cases\[\d+\]/);
  });

  it('a policy split over a directory: a new CSV file is picked up', async () => {
    const { policyPath, h } = await servedCopy({ split: true });
    started.push(h);
    assert.equal(await answers(h, subscribe('56', 'team-red:plans', [])), DENY);
    writeFileSync(join(policyPath, '20-team-red.csv'), 'p, 56, team-red:*, subscribe, allow\n');
    await becomes(h, subscribe('56', 'team-red:plans', []), ALLOW);
    const explained = h.app.policy.current().explain({ user: '56', roles: [], action: 'subscribe', object: 'team-red:plans' });
    assert.deepEqual(explained.deciding.map((r) => `${r.location.file}:${r.location.line}`), [`${join(policyPath, '20-team-red.csv')}:1`]);
  });

  it('a ConfigMap-style mount: the kubelet swapping ..data to a new version is picked up', async () => {
    // The kubelet's layout: ..<timestamp>/<files>, ..data -> ..<timestamp>, <file> -> ..data/<file>.
    const mount = mkdtempSync(join(tmpdir(), 'cpp-configmap-'));
    const version = (name: string, policy: string) => {
      mkdirSync(join(mount, name));
      copyFileSync(join(ROOT, 'policies/model.conf'), join(mount, name, 'model.conf'));
      writeFileSync(join(mount, name, 'policy.csv'), policy);
    };
    version('..2026_11_29_10_00_00.000000001', SHIPPED);
    symlinkSync('..2026_11_29_10_00_00.000000001', join(mount, '..data'));
    symlinkSync('..data/model.conf', join(mount, 'model.conf'));
    symlinkSync('..data/policy.csv', join(mount, 'policy.csv'));
    const h = await startHarness(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${mount}/model.conf, policy: ${mount}/policy.csv, tests: ${ROOT}/policies/tests, watch: true, debounce: 50ms }
log: { level: silent }
`);
    started.push(h);
    assert.equal(await answers(h, subscribe('56', 'chat:lobby')), ALLOW);
    // An update as the kubelet writes it: a new timestamped folder, then ..data renamed over.
    version('..2026_11_29_10_05_00.000000002', `${SHIPPED}\np, 56, chat:lobby, subscribe, deny\n`);
    symlinkSync('..2026_11_29_10_05_00.000000002', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    await becomes(h, subscribe('56', 'chat:lobby'), DENY);
  });
});
