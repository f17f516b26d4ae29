/**
 * What the benchmark runs on, written to a temp dir once per run: an RSA key pair, RS256
 * tokens (signed with node:crypto), request bodies, a policy with 1,000 extra rules, and the
 * service configs, shaped as operators run the service: a caller secret, `claims.info`,
 * a server-side channel (`auth.channels`), and Redis (shared caches, revocation mirror) when
 * the run has one.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const CLIENT = '9336a229-2400-4ebc-8c50-0a643d22e8a0';

/** The caller secret every bench request carries (HTTP header, GRPC metadata). */
export const CALLER_SECRET = 'bench-caller-secret-0123456789abcdef';
/** Every Redis key the bench's services write starts with this (dropped at the end of a run). */
export const REDIS_PREFIX = 'cpp-bench:';
export const CALLER_HEADERS: Readonly<Record<string, string>> = { 'x-proxy-secret': CALLER_SECRET };

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

export interface Fixtures {
  readonly dir: string;
  readonly publicKeyFile: string;
  /** The shipped policies, and the same plus 1,000 rules of other teams. */
  readonly policyDirs: { readonly shipped: string; readonly rules1k: string };
  readonly bodies: Record<'subscribe' | 'publish' | 'subRefresh' | 'rpc' | 'connectRepeated', string>;
  /** One connect body per line, each with its own token. */
  readonly connectUniqueFile: string;
  readonly uniqueTokens: number;
  /** `exp` of every token: the connect answers' `expire_at`. */
  readonly exp: number;
  token(sub: string): string;
  connectBody(token: string): string;
  file(name: string, text: string): string;
}

export function buildFixtures(uniqueTokens: number, users: number): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-bench-'));
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyFile = join(dir, 'public.pem');
  writeFileSync(publicKeyFile, keys.publicKey.export({ format: 'pem', type: 'spki' }));
  const exp = Math.floor(Date.now() / 1000) + 6 * 3600;
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const token = (sub: string, nonce = '') => {
    const input = `${header}.${b64url(JSON.stringify({ sub, exp, roles: ['role:member'], name: `User ${sub}`, ...(nonce ? { jti: nonce } : {}) }))}`;
    return `${input}.${b64url(createSign('RSA-SHA256').update(input).sign(keys.privateKey))}`;
  };
  const connectBody = (t: string) => JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: t } });
  const event = (extra: Record<string, unknown>) =>
    JSON.stringify({ client: CLIENT, transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', meta: { roles: ['role:member'] }, ...extra });

  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  const shipped = join(dir, 'policy-shipped');
  const rules1k = join(dir, 'policy-1k');
  for (const target of [shipped, rules1k]) {
    mkdirSync(target);
    copyFileSync(join(ROOT, 'policies/model.conf'), join(target, 'model.conf'));
  }
  const shippedCsv = readFileSync(join(ROOT, 'policies/policy.csv'), 'utf8');
  writeFileSync(join(shipped, 'policy.csv'), shippedCsv);
  const extra = Array.from({ length: 1000 }, (_, i) => `p, role:team-${i}, team-${i}:*, ${['subscribe', 'publish', 'sub_refresh', 'rpc'][i % 4]}, allow`);
  writeFileSync(join(rules1k, 'policy.csv'), `${shippedCsv}\n# 1,000 rules of other teams\n${extra.join('\n')}\n`);

  // Users repeat (a storm reconnects the same users), each token is distinct.
  const lines: string[] = [];
  for (let i = 0; i < uniqueTokens; i++) lines.push(connectBody(token(`user-${i % users}`, String(i))));

  return {
    dir,
    publicKeyFile,
    policyDirs: { shipped, rules1k },
    bodies: {
      subscribe: file('subscribe.json', event({ channel: 'chat:room-42' })),
      publish: file('publish.json', event({ channel: 'chat:room-42', data: { text: 'hello' } })),
      subRefresh: file('sub-refresh.json', event({ channel: 'chat:room-42' })),
      rpc: file('rpc.json', event({ method: 'tasks.get_stats', data: { project: 7 } })),
      connectRepeated: file('connect.json', connectBody(token('56'))),
    },
    connectUniqueFile: file('connect-unique.txt', `${lines.join('\n')}\n`),
    uniqueTokens,
    exp,
    token: (sub) => token(sub),
    connectBody,
    file,
  };
}

export interface ServiceConfigOptions {
  readonly policyDir: string;
  readonly publicKeyFile: string;
  readonly upstreamPort?: number;
  /** Shared caches and the revocation mirror; a key prefix per process (BENCH_INSTANCE), so every server starts cold. */
  readonly redisUrl?: string;
  readonly extraYaml?: string;
}

/**
 * The connect answer for `token(user)`, written out from the contract (Centrifugo's
 * ConnectResult as JSON: info and meta embedded, the server-side channel the policy allows)
 * rather than by the service's encoder, so the bench checks the bytes it is measuring.
 */
export function connectAnswer(f: Fixtures, user: string): string {
  return `{"result":{"user":"${user}","expire_at":${f.exp},"info":{"name":"User ${user}"},"channels":["personal:${user}"],"meta":{"roles":["role:member"]}}}`;
}

/** A service config: the bench's key and policy, production-shaped (see above), an rpc route to the local upstream. */
export function serviceConfig(f: Fixtures, name: string, options: ServiceConfigOptions): string {
  return f.file(
    `${name}.yaml`,
    `http:
  port: \${HTTP_PORT}
  host: 127.0.0.1
grpc:
  port: \${GRPC_PORT}
  host: 127.0.0.1
caller_auth: { secret: ${CALLER_SECRET} }
auth:
  jwt: { algorithms: [RS256], public_key_file: ${options.publicKeyFile} }
  claims: { user: sub, roles: roles, info: [name] }
  channels: ["personal:{user}"]
policy: { model: ${options.policyDir}/model.conf, policy: ${options.policyDir}/policy.csv, tests: "", watch: false }
rpc:
  routes:
    - { method: "tasks.*", upstream: "http://127.0.0.1:${options.upstreamPort ?? 9}/rpc", timeout: 1s }
log: { level: silent }
${options.redisUrl ? `cache: { redis_url: "${options.redisUrl}", key_prefix: "${REDIS_PREFIX}${name}:\${BENCH_INSTANCE:-0}:" }\n` : ''}${options.extraYaml ?? ''}`,
  );
}
