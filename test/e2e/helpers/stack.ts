/**
 * One end-to-end stack: our service (in this process, real config file, real Redis, its own copy
 * of policies/ so a test may edit it), a local RPC upstream, and the real Centrifugo proxying
 * every event to the service over HTTP or GRPC. Clients are the `centrifuge` SDK over `ws`.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pino from 'pino';
import { buildApp, type App, type AppOverrides } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { uniquePrefix } from '../../helpers/redis.js';
import { jwks, nowSeconds, rs256 } from '../../helpers/tokens.js';
import { ROOT, startCentrifugo, type Centrifugo, type ProxyTransport } from './centrifugo.js';
import { makeClient, type ClientOptions, type RecordedClient } from './clients.js';

export const PROXY_SECRET = 'e2e-proxy-secret-0123456789abcdef';
export const ISSUER = 'https://issuer.e2e';
export const AUDIENCE = 'centrifugo-e2e';

export interface UpstreamCall {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** An RPC backend: echoes params and identity; `/slow` answers after 3 s. */
async function startUpstream() {
  const calls: UpstreamCall[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
    req.on('end', () => {
      const path = req.url ?? '';
      calls.push({ path, headers: req.headers, body });
      const reply = () => {
        if (req.headers['content-type'] === 'application/octet-stream') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(Buffer.from([...Buffer.from(body, 'latin1')].reverse()));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ user: req.headers['x-centrifugo-user'], params: body === '' ? null : JSON.parse(body) }));
      };
      if (path === '/slow') setTimeout(reply, 3000);
      else reply();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

export interface StackOptions {
  readonly transport: ProxyTransport;
  /** YAML appended to the service config (top-level keys not set below). */
  readonly serviceYaml?: string;
  /** More keys inside the service's `grpc: {...}` flow mapping, e.g. `max_connection_age: 500ms`. */
  readonly grpcYaml?: string;
  /** Replaces the `auth.jwt` block's key source (default `jwks_file: ./jwks.json`), 4 spaces indented. */
  readonly jwtKeysYaml?: string;
  /** YAML for the `auth:` block's extra keys (indented by the caller with 2 spaces). */
  readonly authYaml?: string;
  /** The secret Centrifugo sends; defaults to the one the service expects. */
  readonly centrifugoSecret?: string;
  readonly binaryEncoding?: boolean;
  readonly centrifugoEnv?: Record<string, string>;
  readonly overrides?: AppOverrides;
}

export interface Stack {
  readonly transport: ProxyTransport;
  readonly app: App;
  readonly centrifugo: Centrifugo;
  readonly upstream: Awaited<ReturnType<typeof startUpstream>>;
  /** The service's own copy of policies/ (edits hot-reload). */
  readonly policyDir: string;
  readonly redisPrefix: string;
  /**
   * Runs the `revoke` CLI against this stack's config (asynchronously: the service shares this
   * process, and a blocked event loop would make Centrifugo's proxy calls time out).
   */
  revoke(user: string, ...flags: string[]): Promise<void>;
  /** An RS256 token the service accepts: sub, roles and extra claims on top. */
  token(user: string, roles?: string[], extra?: Record<string, unknown>): string;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-e2e-'));
  const policyDir = join(dir, 'policies');
  cpSync(join(ROOT, 'policies'), policyDir, { recursive: true });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks()));
  const upstream = await startUpstream();
  const redisPrefix = uniquePrefix();
  const yaml = `
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1${options.grpcYaml ? `, ${options.grpcYaml}` : ''} }
caller_auth: { secret: ${PROXY_SECRET} }
auth:
  jwt:
    algorithms: [RS256]
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
${options.jwtKeysYaml ?? '    jwks_file: ./jwks.json'}
  claims: { user: sub, roles: roles, info: [name] }
  channels: ["personal:{user}"]
${options.authYaml ?? ''}
policy:
  model: ./policies/model.conf
  policy: ./policies/policy.csv
  tests: ./policies/tests
  debounce: 50ms
cache:
  redis_url: ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}
  key_prefix: "${redisPrefix}"
rpc:
  routes:
    - { method: tasks.echo, upstream: "${upstream.url}/echo", timeout: 500ms }
    - { method: tasks.binary, upstream: "${upstream.url}/binary", timeout: 500ms }
    - { method: tasks.slow, upstream: "${upstream.url}/slow", timeout: 300ms }
    - method: tasks.create
      upstream: "${upstream.url}/create"
      timeout: 500ms
      params_schema: { type: object, required: [title], properties: { title: { type: string, minLength: 1 } } }
log: { level: silent }
${options.serviceYaml ?? ''}`;
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, yaml);
  const app = buildApp(parseConfig(yaml, configFile), { log: pino({ level: 'silent' }), configFile, ...options.overrides });
  const { httpPort, grpcPort } = await app.start();
  let centrifugo: Centrifugo;
  try {
    centrifugo = await startCentrifugo({
      transport: options.transport,
      proxyHttpUrl: `http://127.0.0.1:${httpPort}`,
      proxyGrpcAddress: `127.0.0.1:${grpcPort}`,
      proxySecret: options.centrifugoSecret ?? PROXY_SECRET,
      binaryEncoding: options.binaryEncoding,
      env: options.centrifugoEnv,
    });
  } catch (err) {
    await app.stop();
    await upstream.close();
    throw err;
  }
  return {
    transport: options.transport,
    app,
    centrifugo,
    upstream,
    policyDir,
    redisPrefix,
    async revoke(user, ...flags) {
      await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'revoke', '--config', configFile, '--user', user, ...flags], { cwd: ROOT });
    },
    token: (user, roles = [], extra = {}) =>
      rs256({ sub: user, iss: ISSUER, aud: AUDIENCE, iat: nowSeconds() - 5, exp: nowSeconds() + 3600, ...(roles.length > 0 ? { roles } : {}), ...extra }),
    async stop() {
      await centrifugo.stop();
      await app.stop();
      await upstream.close();
    },
  };
}

export interface SuiteStack {
  /** The running stack (after the suite's `before`). */
  readonly stack: Stack;
  /** An SDK client on this stack, closed when the suite ends. */
  client(options: ClientOptions): RecordedClient;
  /** A client connected with a token for `user` (its name claim for connection info). */
  connected(user: string, roles: string[], name?: string): Promise<RecordedClient>;
}

/** Starts a stack before the enclosing suite and stops it and every client after. */
export function useStack(options: StackOptions): SuiteStack {
  let stack: Stack | undefined;
  const clients: RecordedClient[] = [];
  before(async () => {
    stack = await startStack(options);
  });
  after(async () => {
    for (const c of clients) c.close();
    await stack?.stop();
  });
  const suite: SuiteStack = {
    get stack() {
      if (!stack) throw new Error('the stack starts in the suite\'s before hook');
      return stack;
    },
    client(clientOptions) {
      const made = makeClient(suite.stack.centrifugo.wsUrl, clientOptions);
      clients.push(made);
      return made;
    },
    async connected(user, roles, name = `user ${user}`) {
      const made = suite.client({ data: { token: suite.stack.token(user, roles, { name }) } });
      made.client.connect();
      await made.waitFor((e) => e.type === 'connected', `user ${user} connected`);
      return made;
    },
  };
  return suite;
}
