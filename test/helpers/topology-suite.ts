/**
 * One suite for every Redis deployment (Cluster, Sentinel): two service instances on it share
 * decisions and verified tokens, read revocations from every master at start, hear revocations
 * and policy reloads announced by the other, and keep answering, every answer checked, while
 * the master is killed and the deployment fails over. The failover's figures are printed as a
 * test diagnostic (node's runner shows them) for docs/redis.md.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { RedisRevocations } from '../../src/auth/revocations.js';
import { createRedis, type RedisClient } from '../../src/cache/redis-connection.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { runCli } from '../../src/cli/main.js';
import { grpcToJson, jsonToGrpcRequest, ROOT, startHarness, type Harness } from './harness.js';
import { uniquePrefix } from './redis.js';
import type { RedisTopology } from './redis-topologies.js';
import { topologySuiteOptions } from './redis-topologies.js';
import { HMAC_SECRET, signJwt } from './tokens.js';

const EXP = Math.floor(Date.now() / 1000) + 3600;
const token = (sub: string) => signJwt({ alg: 'HS256', typ: 'JWT' }, { sub, exp: EXP, roles: ['role:member'] }, { alg: 'HS256', secret: HMAC_SECRET });
const connectBody = (jwt: string) => JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: jwt } });
const subscribeBody = (user: string, roles: string[], channel: string) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, meta: { roles } });
const CONNECTED = (user: string) => `{"result":{"user":"${user}","expire_at":${EXP},"channels":["personal:${user}","chat:lobby"],"meta":{"roles":["role:member"]}}}`;
const FORBIDDEN = '{"disconnect":{"code":4503,"reason":"forbidden"}}';
const ALLOW = '{"result":{}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';
const SEEDED = 30;
const silent = pino({ level: 'silent' });

const ROLE_SETS = [[], ['role:member'], ['role:guest'], ['role:admin']];
const CHANNELS = ['chat:lobby', 'chat:room1', 'news:today', 'personal:1', 'secret:x', 'chat:archive:2020'];

function policyCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-topology-policy-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  copyFileSync(join(ROOT, 'policies/policy.csv'), join(dir, 'policy.csv'));
  return dir;
}

const instanceConfig = (url: string, prefix: string, dir: string, watch: boolean) => `
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
policy: { model: ${dir}/model.conf, policy: ${dir}/policy.csv, tests: "", watch: ${watch}, debounce: 30ms }
auth:
  jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" }
  channels: ["personal:{user}", "chat:lobby"]
  revocation_resync: 30s
cache: { redis_url: "${url}", key_prefix: "${prefix}", max_entries: 1, redis_timeout: 100ms }
log: { level: silent }
`;

async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function metric(h: Harness, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text();
  return [...text.matchAll(new RegExp(pattern.source, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}
const revokedUsers = (h: Harness) => metric(h, /^cpp_revoked_users (\d+)$/);
const redisErrors = (h: Harness) => metric(h, /^cpp_redis_errors_total\{[^}]*\} (\d+)$/);
const breakerClosed = (h: Harness) => metric(h, /^cpp_redis_breaker_state\{state="closed"\} (\d+)$/);
const redisHits = (h: Harness) => metric(h, /^cpp_cache_requests_total\{tier="redis",result="hit"\} (\d+)$/);

/** Keys under `pattern` on each master now, asked of each directly (no client's slot table in between). */
async function keysOnEachMaster(topology: RedisTopology, pattern: string): Promise<string[][]> {
  return Promise.all(
    (await topology.masterPorts()).map(async (port) => {
      const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      try {
        const found: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          found.push(...keys);
        } while (cursor !== '0');
        return found;
      } finally {
        node.disconnect();
      }
    }),
  );
}

/** HTTP and GRPC must both answer `expected` (exact bytes over HTTP). */
async function both(h: Harness, event: 'connect' | 'subscribe', body: string, expected: string): Promise<void> {
  const http = await h.http(`/centrifugo/${event}`, body);
  assert.equal(http.body, expected, `HTTP ${event}`);
  const grpc = await h.call(event === 'connect' ? 'Connect' : 'Subscribe', jsonToGrpcRequest(body));
  assert.deepEqual(grpcToJson(grpc), JSON.parse(expected), `GRPC ${event}`);
}

async function cli(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runCli(args, { log: (l) => lines.push(l), error: (l) => lines.push(l) });
  return { code, lines };
}

export interface FailoverFigures {
  readonly requests: number;
  /** Answered between the kill and `redis_back_ms`. */
  readonly while_redis_away: number;
  readonly failed: number;
  readonly wrong: number;
  /** From the kill until neither instance had its Redis breaker open or counted a Redis error (answers computed locally meanwhile). */
  readonly fell_back_ms: number;
  /** From the kill until a client of the test could write and read the killed master's keys again. */
  readonly redis_back_ms: number;
}

export function topologySuite(name: string, start: () => Promise<RedisTopology>): void {
  describe(`${name}: two instances, every Redis use, a master failover under load`, topologySuiteOptions(), () => {
    const prefix = uniquePrefix();
    let topology: RedisTopology;
    let client: RedisClient;
    let a: Harness;
    let b: Harness;
    let dirA: string;
    let dirB: string;
    /** A revocation list whose connection is idle while the master dies (its slot table goes stale). */
    let idle: { store: RedisStore; list: RedisRevocations };

    before(async () => {
      topology = await start();
      client = createRedis(topology.url, { commandTimeoutMs: 1000, queueWhileOffline: true });
      client.on('error', () => undefined);
      // Revocations written before the instances start, spread over the masters by their slots.
      for (let n = 0; n < SEEDED; n++) await client.set(`${prefix}revoked:seed-${n}`, '1');
      dirA = policyCopy();
      dirB = policyCopy();
      // A watches its policy files; B re-reads its own only when A announces a reload.
      a = await startHarness(instanceConfig(topology.url, prefix, dirA, true));
      b = await startHarness(instanceConfig(topology.url, prefix, dirB, false));
      const store = new RedisStore(createRedis(topology.url, { commandTimeoutMs: 1000 }), prefix, silent);
      store.client.on('error', () => undefined);
      idle = { store, list: new RedisRevocations(store, { redisUrl: topology.url, resyncMs: 60_000, log: silent }) };
      await idle.store.ready(2000);
      await idle.list.resync();
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      client?.disconnect();
      await idle?.store.close();
      await topology?.stop();
    });

    it('revocations stored before start are read from every master by both instances', async () => {
      const perMaster = await keysOnEachMaster(topology, `${prefix}revoked:*`);
      assert.equal(perMaster.length, name.includes('Cluster') ? 3 : 1);
      assert.ok(
        perMaster.every((keys) => keys.length > 0),
        `every master holds some: ${perMaster.map((k) => k.length)}`,
      );
      for (const h of [a, b]) {
        await eventually('mirror read', async () => (await revokedUsers(h)) === SEEDED);
        for (let n = 0; n < SEEDED; n += 7) await both(h, 'connect', connectBody(token(`seed-${n}`)), FORBIDDEN);
      }
    });

    it('a decision made by one instance is a Redis hit on the other', async () => {
      const body = subscribeBody('56', ['role:member'], 'chat:shared');
      await both(a, 'subscribe', body, ALLOW);
      await eventually('decision stored', async () => (await keysOnEachMaster(topology, `${prefix}d:*`)).flat().length > 0);
      const hits = await redisHits(b);
      const http = await b.http('/centrifugo/subscribe', body);
      assert.equal(http.body, ALLOW);
      assert.equal(await redisHits(b), hits + 1);
    });

    it('a token verified by one instance is taken from Redis by the other', async () => {
      const jwt = token('tok-user');
      await both(a, 'connect', connectBody(jwt), CONNECTED('tok-user'));
      const digest = createHash('sha256').update(jwt).digest('base64');
      let stored: string[] = [];
      await eventually('token stored', async () => (stored = (await keysOnEachMaster(topology, `${prefix}t:*:${digest}`)).flat()).length === 1);
      // Rewrite the stored identity: B answering with it proves B read Redis instead of verifying.
      const key = stored[0] as string;
      const identity = JSON.parse((await client.get(key)) as string) as { user: string };
      await client.set(key, JSON.stringify({ ...identity, user: 'from-redis' }), 'KEEPTTL');
      await both(b, 'connect', connectBody(jwt), CONNECTED('from-redis'));
    });

    it("a revocation made with the service's own CLI reaches the other instance at once, and --lift too", async () => {
      const body = connectBody(token('victim'));
      await both(b, 'connect', body, CONNECTED('victim'));
      assert.deepEqual(await cli(['revoke', '--user', 'victim', '--config', a.configFile]), { code: 0, lines: ['revoked user "victim" until lifted (revoke --user U --lift)'] });
      await eventually('announcement', async () => (await revokedUsers(b)) === SEEDED + 1, 2000);
      await both(b, 'connect', body, FORBIDDEN);
      assert.deepEqual(await cli(['revoke', '--user', 'victim', '--lift', '--config', a.configFile]), { code: 0, lines: ['lifted revocation of user "victim"'] });
      await eventually('lift announcement', async () => (await revokedUsers(b)) === SEEDED, 2000);
      await both(b, 'connect', body, CONNECTED('victim'));
    });

    it("a policy reload on one instance is announced; the other re-reads its files and agrees", async () => {
      const before = b.app.policy.current().version;
      const edited = `${readFileSync(join(dirA, 'policy.csv'), 'utf8')}\np, 56, chat:lobby, subscribe, deny\n`;
      writeFileSync(join(dirB, 'policy.csv'), edited);
      writeFileSync(join(dirA, 'policy.csv'), edited);
      await eventually('B follows A', () => b.app.policy.current().version !== before && b.app.policy.current().version === a.app.policy.current().version);
      await both(b, 'subscribe', subscribeBody('56', [], 'chat:lobby'), DENY);
      assert.equal(await metric(b, /^cpp_policy_replica_mismatch (\d+)$/), 0);
    });

    it('the master is killed under load: 0 failed requests, 0 wrong answers, and the degraded window is measured', async (t: TestContext) => {
      const figures = await failoverUnderLoad(topology, client, prefix, a, b);
      t.diagnostic(`${name} failover: ${JSON.stringify(figures)}`);
      assert.equal(figures.failed, 0);
      assert.equal(figures.wrong, 0);
      assert.ok(figures.redis_back_ms > 0, `Redis answered again: ${figures.redis_back_ms}`);
      assert.ok(figures.while_redis_away >= 50, `answered while Redis was away: ${figures.while_redis_away}`);
    });

    it('after the failover: announcements reach the other instance and decisions reach Redis again', async () => {
      const body = connectBody(token('late-victim'));
      assert.equal((await cli(['revoke', '--user', 'late-victim', '--config', a.configFile])).code, 0);
      await eventually('announcement after failover', async () => (await revokedUsers(b)) === SEEDED + 1, 2000);
      await both(b, 'connect', body, FORBIDDEN);
      const before = (await keysOnEachMaster(topology, `${prefix}d:*`)).flat().length;
      await both(a, 'subscribe', subscribeBody('after-failover', ['role:member'], 'chat:lobby'), ALLOW);
      await eventually('decision stored after failover', async () => (await keysOnEachMaster(topology, `${prefix}d:*`)).flat().length > before);
    });

    it('after the failover: a full read of revocations covers the promoted master, even on a connection idle during the failover', async () => {
      assert.equal(await idle.list.isRevoked('seed-0'), true, 'read before the failover');
      for (let n = 0; n < SEEDED; n++) await client.set(`${prefix}revoked:after-${n}`, '1');
      const perMaster = await keysOnEachMaster(topology, `${prefix}revoked:after-*`);
      assert.ok(perMaster.every((keys) => keys.length > 0), `every master holds some: ${perMaster.map((k) => k.length)}`);
      // Its connection may still be coming back (a read that fails keeps the last one): read again until it is.
      const missed = async () => {
        await idle.list.resync();
        const out: number[] = [];
        for (let n = 0; n < SEEDED; n++) if (!(await idle.list.isRevoked(`after-${n}`))) out.push(n);
        return out;
      };
      await eventually('every revocation read', async () => (await missed()).length === 0).catch(async (err: Error) => {
        assert.fail(`${err.message}; missed: ${await missed()}`);
      });
    });
  });
}

/**
 * Load over both instances and transports (subscribes with fresh questions, so Redis is asked,
 * and connects, so verified tokens and revocations are); the master holding the probe key is
 * killed 1 s in; the load goes on until Redis has answered again and neither instance has
 * been degraded for 1.5 s (at most 20 s).
 */
async function failoverUnderLoad(topology: RedisTopology, client: RedisClient, prefix: string, a: Harness, b: Harness): Promise<FailoverFigures> {
  const probeKey = `${prefix}probe`;
  const victim = client instanceof Cluster ? masterOfKey(client, (await client.call('CLUSTER', 'KEYSLOT', probeKey)) as number) : (await topology.masterPorts())[0];
  assert.ok(victim, 'the master to kill');
  const tokens = Array.from({ length: 50 }, (_, n) => token(`u${n}`));
  const engine = () => a.app.policy.current();
  let requests = 0;
  let whileRedisAway = 0;
  let failed = 0;
  const wrong: string[] = [];
  let stop = false;
  const started = Date.now();
  let killedAt = 0;
  let redisBackAt = 0;

  const worker = async () => {
    while (!stop) {
      const i = requests++;
      const h = i % 2 === 0 ? a : b;
      const grpc = i % 3 === 0;
      const isConnect = i % 5 === 0;
      const q = { user: `u${i % 997}`, roles: ROLE_SETS[i % ROLE_SETS.length] as string[], action: 'subscribe', object: CHANNELS[i % CHANNELS.length] as string };
      const body = isConnect ? connectBody(tokens[i % tokens.length] as string) : subscribeBody(q.user, q.roles, q.object);
      const expected = isConnect ? CONNECTED(`u${i % tokens.length}`) : engine().decide(q) ? ALLOW : DENY;
      try {
        let got: string;
        if (grpc) got = JSON.stringify(grpcToJson(await h.call(isConnect ? 'Connect' : 'Subscribe', jsonToGrpcRequest(body))));
        else {
          const response = await h.http(`/centrifugo/${isConnect ? 'connect' : 'subscribe'}`, body);
          if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
          got = response.body;
        }
        if (JSON.stringify(JSON.parse(got)) !== JSON.stringify(JSON.parse(expected))) wrong.push(`#${i}: ${got}`);
      } catch {
        failed++;
      }
      if (killedAt && !redisBackAt) whileRedisAway++;
    }
  };

  // Watches Redis from outside (the killed master's key) and each instance's own view: it is
  // degraded while its Redis breaker is not closed or it counted a Redis error since last look.
  let lastProbeFailure = 0;
  let lastDegradedAt = 0;
  let errors = (await redisErrors(a)) + (await redisErrors(b));
  // Fails at once while Redis cannot answer, like the service's own connection.
  const probe = createRedis(topology.url, { commandTimeoutMs: 200 });
  probe.on('error', () => undefined);
  const watch = async () => {
    while (!stop) {
      const now = Date.now();
      if (!killedAt && now - started > 1000) {
        killedAt = Date.now();
        await topology.killMaster(victim);
      }
      if (killedAt) {
        const ok = await probe.set(probeKey, String(now), 'PX', 60_000).then(
          () => probe.get(probeKey).then((v) => v === String(now)),
          () => false,
        );
        if (!ok) lastProbeFailure = Date.now();
        else if (lastProbeFailure && !redisBackAt) redisBackAt = Date.now();
        const seen = (await redisErrors(a)) + (await redisErrors(b));
        const closed = (await breakerClosed(a)) + (await breakerClosed(b));
        if (seen > errors || closed < 2) lastDegradedAt = Date.now();
        errors = seen;
        const quiet = redisBackAt > 0 && Date.now() - Math.max(lastDegradedAt, redisBackAt) > 1500;
        if (quiet || Date.now() - killedAt > 20_000) stop = true;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await Promise.all([watch(), ...Array.from({ length: 12 }, worker)]).finally(() => probe.disconnect());
  assert.deepEqual(wrong, []);
  return {
    requests,
    while_redis_away: whileRedisAway,
    failed,
    wrong: wrong.length,
    fell_back_ms: lastDegradedAt ? lastDegradedAt - killedAt : 0,
    redis_back_ms: redisBackAt ? redisBackAt - killedAt : -1,
  };
}

/** The port of the master serving `slot`, from the cluster client's slot table. */
function masterOfKey(cluster: Cluster, slot: number): number {
  const [master] = cluster.slots[slot] ?? [];
  return Number(master?.split(':').pop());
}
