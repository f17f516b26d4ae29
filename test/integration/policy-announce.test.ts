/**
 * Replicas over the real Redis: a reload on one instance is announced, the other re-reads its own
 * files; when its files give another version it reports the mismatch instead of diverging quietly.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, startHarness, type Harness } from '../helpers/harness.js';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const SHIPPED = readFileSync(join(ROOT, 'policies/policy.csv'), 'utf8');

function policyCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-replica-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  writeFileSync(join(dir, 'policy.csv'), SHIPPED);
  return dir;
}

const replica = (dir: string, prefix: string, watch: boolean) =>
  startHarness(`
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${dir}/model.conf, policy: ${dir}/policy.csv, tests: "", watch: ${watch}, debounce: 30ms }
cache: { redis_url: "${REDIS_URL}", key_prefix: "${prefix}" }
log: { level: silent }
`);

async function eventually(check: () => Promise<boolean> | boolean, ms = 2000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const mismatch = async (h: Harness) => /^cpp_policy_replica_mismatch (\d+)$/m.exec(await (await fetch(`${h.httpUrl}/metrics`)).text())?.[1];

describe('policy announcements between replicas', () => {
  const started: Harness[] = [];
  after(() => Promise.all(started.map((h) => h.stop())));

  /** Replicas A (watching its files) and B, each with its own copy of the policy, on one Redis prefix. */
  async function twoReplicas(bWatches: boolean) {
    const prefix = uniquePrefix();
    const dirA = policyCopy();
    const dirB = policyCopy();
    const a = await replica(dirA, prefix, true);
    const b = await replica(dirB, prefix, bWatches);
    started.push(a, b);
    return { a, b, dirA, dirB };
  }

  it('B re-reads its files when A announces; same files → same version; different files → mismatch reported', async () => {
    // B does not watch its files: only A's announcement can make it re-read them.
    const { a, b, dirA, dirB } = await twoReplicas(false);

    const edited = `${SHIPPED}\np, 56, chat:lobby, subscribe, deny\n`;
    writeFileSync(join(dirB, 'policy.csv'), edited);
    writeFileSync(join(dirA, 'policy.csv'), edited);
    await eventually(() => a.app.policy.current().version === b.app.policy.current().version && a.app.policy.current().explain({ user: '56', roles: [], action: 'subscribe', object: 'chat:lobby' }).allowed === false);
    assert.equal(await mismatch(b), '0');

    // Only A's files change now: B cannot reproduce A's version and says so.
    writeFileSync(join(dirA, 'policy.csv'), `${edited}p, 57, chat:lobby, subscribe, deny\n`);
    await eventually(async () => (await mismatch(b)) === '1');
    assert.notEqual(a.app.policy.current().version, b.app.policy.current().version);
  });

  it('a replica whose files catch up later (a ConfigMap rollout) clears its mismatch when its own reload reaches the announced version', async () => {
    const { a, b, dirA, dirB } = await twoReplicas(true);
    const edited = `${SHIPPED}\np, 56, chat:lobby, subscribe, deny\n`;
    // A gets the new files first: B re-reads its old ones and reports the mismatch.
    writeFileSync(join(dirA, 'policy.csv'), edited);
    await eventually(async () => (await mismatch(b)) === '1');
    // B's files arrive later; its own reload reaches A's version and the mismatch clears.
    writeFileSync(join(dirB, 'policy.csv'), edited);
    await eventually(async () => (await mismatch(b)) === '0');
    assert.equal(b.app.policy.current().version, a.app.policy.current().version);
  });
});
