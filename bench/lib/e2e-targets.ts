/**
 * What the end-to-end benchmark measures: the real Centrifugo (pinned to the server core) alone
 * with its own JWT verification, or proxying to our service (HTTP or GRPC) or to the naive
 * peer, each proxy a separate process pinned to the same core as Centrifugo.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchCentrifugo, proxyEnv, ROOT, type ProxyTransport } from '../../test/e2e/helpers/centrifugo.js';
import { atMost, type ShareBound } from './cache-share.js';
import { CAN_PIN, SERVER_CORE, startServer, TASKSET, type Started } from './processes.js';
import { AUDIENCE, ISSUER, type E2eTokens } from './e2e-tokens.js';

export interface Running {
  readonly wsUrl: string;
  /** The processes whose CPU time is read: Centrifugo and, behind it, the proxy. */
  readonly centrifugoPid: number;
  readonly proxyPid?: number;
  /** Our service's HTTP port (its /metrics), for the cache check; absent for the others. */
  readonly metricsPort?: number;
  stop(): Promise<void>;
}

export interface Target {
  readonly key: 'a' | 'b' | 'c' | 'd';
  readonly name: string;
  /**
   * Which token pool its clients use, and where the token goes: Centrifugo's own `token` field
   * (verified by Centrifugo) or the connect `data` (passed to the connect proxy; a `token`
   * would make Centrifugo skip the proxy).
   */
  readonly tokens: 'centrifugo' | 'service';
  /** The cache shares its sessions imply, checked on our service's counters. */
  readonly cache?: readonly ShareBound[];
  start(): Promise<Running>;
}

/**
 * Every session is a new user with a new token (the warm-up's and earlier rows' users are never
 * reused; a fresh Redis prefix per process): every token verified, every decision (connect, the
 * personal channel, chat:room-N for that user) computed.
 */
const DISTINCT_SESSIONS: readonly ShareBound[] = [atMost('tokenHit', 0.01), atMost('memory', 0.01), atMost('redis', 0.01)];

export interface TargetSetup {
  readonly dir: string;
  readonly tokens: E2eTokens;
  /** Redis for the service's shared caches, if there is one. */
  readonly redisUrl?: string;
}

const PROXY_SECRET = 'bench-proxy-secret-0123456789abcdef';
const LAUNCHER = CAN_PIN ? [TASKSET, '-c', SERVER_CORE] : [];
// Centrifugo logs nothing per connection at warn; failures still show in its output.
const QUIET = { CENTRIFUGO_LOG_LEVEL: 'warn' };

/** Centrifugo verifying its own connection tokens: no proxy anywhere. */
function ceilingConfig(setup: TargetSetup): string {
  const file = join(setup.dir, 'centrifugo-jwt.json');
  const config = {
    http_api: { key: 'unused' },
    health: { enabled: true },
    client: { token: { rsa_public_key: setup.tokens.publicKeyPem, issuer: ISSUER, audience: AUDIENCE } },
    channel: { namespaces: [{ name: 'chat', allow_subscribe_for_client: true }, { name: 'personal' }] },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** The service as operators run it; a fresh Redis key prefix per process (cold shared caches). */
function serviceConfig(setup: TargetSetup, policyDir: string): string {
  const prefix = `cpp-bench-e2e:${randomBytes(4).toString('hex')}:`;
  return writeConfig(
    setup.dir,
    `service-e2e-${prefix.split(':')[1]}.yaml`,
    `http:
  port: \${HTTP_PORT}
  host: 127.0.0.1
grpc:
  port: \${GRPC_PORT}
  host: 127.0.0.1
caller_auth: { secret: ${PROXY_SECRET} }
auth:
  jwt: { algorithms: [RS256], issuer: "${ISSUER}", audience: ${AUDIENCE}, jwks_file: ${setup.tokens.jwksFile} }
  claims: { user: sub, roles: roles, info: [name] }
  channels: ["personal:{user}"]
policy: { model: ${policyDir}/model.conf, policy: ${policyDir}/policy.csv, tests: "", watch: false }
${setup.redisUrl ? `cache: { redis_url: "${setup.redisUrl}", key_prefix: "${prefix}" }` : ''}
log: { level: silent }
`,
  );
}

function writeConfig(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Starts a proxy process, then Centrifugo pointed at it; stops both (Centrifugo first). */
async function behindCentrifugo(transport: ProxyTransport, proxy: () => Promise<Started>, ours = false): Promise<Running> {
  const server = await proxy();
  try {
    const centrifugo = await launchCentrifugo(
      join(ROOT, `deploy/centrifugo/config-${transport}.json`),
      {
        ...proxyEnv({
          transport,
          proxyHttpUrl: `http://127.0.0.1:${server.ready.port}`,
          proxyGrpcAddress: `127.0.0.1:${server.ready.grpcPort}`,
          proxySecret: PROXY_SECRET,
        }),
        ...QUIET,
      },
      LAUNCHER,
    );
    return {
      wsUrl: centrifugo.wsUrl,
      centrifugoPid: centrifugo.pid,
      proxyPid: server.child.pid,
      ...(ours ? { metricsPort: server.ready.port } : {}),
      stop: async () => {
        await centrifugo.stop();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

export function e2eTargets(setup: TargetSetup): Target[] {
  const policyDir = join(setup.dir, 'e2e-policies');
  cpSync(join(ROOT, 'policies'), policyDir, { recursive: true });
  const service = () => startServer('bench/servers/service.ts', { BENCH_CONFIG: serviceConfig(setup, policyDir), PORT: '0', GRPC_PORT: '0' });
  return [
    {
      key: 'a',
      name: '(a) Centrifugo alone, its own RS256 tokens',
      tokens: 'centrifugo',
      async start() {
        const centrifugo = await launchCentrifugo(ceilingConfig(setup), QUIET, LAUNCHER);
        return { wsUrl: centrifugo.wsUrl, centrifugoPid: centrifugo.pid, stop: () => centrifugo.stop() };
      },
    },
    { key: 'b', name: '(b) Centrifugo → service over HTTP', tokens: 'service', cache: DISTINCT_SESSIONS, start: () => behindCentrifugo('http', service, true) },
    { key: 'c', name: '(c) Centrifugo → service over GRPC', tokens: 'service', cache: DISTINCT_SESSIONS, start: () => behindCentrifugo('grpc', service, true) },
    {
      key: 'd',
      name: '(d) Centrifugo → naive peer over HTTP',
      tokens: 'service',
      start: () =>
        behindCentrifugo('http', () =>
          startServer('bench/servers/naive-peer.ts', { PORT: '0', BENCH_POLICY_DIR: policyDir, BENCH_PUBLIC_KEY: setup.tokens.publicKeyFile, BENCH_CALLER_SECRET: PROXY_SECRET }),
        ),
    },
  ];
}
