// `npm run demo`: the whole stack on this machine without Docker — the real Centrifugo (from
// .cache/, installed by scripts/install-centrifugo.sh when missing), Redis when one answers or
// redis-server is on PATH, the service with examples/demo/config.yaml (run from the sources, so
// it is never a stale build), the demo's echo RPC upstream and the demo page. Prints a link with
// a development token, then runs until Ctrl-C. Ports come from the environment (defaults below;
// Centrifugo's shipped config only allows the page's origin http://localhost:8080).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const ports = {
  page: Number(env.DEMO_PAGE_PORT ?? 8080),
  centrifugo: Number(env.DEMO_CENTRIFUGO_PORT ?? 8000),
  http: Number(env.DEMO_HTTP_PORT ?? 3000),
  grpc: Number(env.DEMO_GRPC_PORT ?? 50051),
  echo: Number(env.DEMO_ECHO_PORT ?? 8081),
  redis: Number(env.DEMO_REDIS_PORT ?? 6390),
};
const transport = env.DEMO_TRANSPORT === 'grpc' ? 'grpc' : 'http';
const demoConfig = join(root, 'examples/demo/config.yaml');
const logDir = join(root, '.cache/demo');
mkdirSync(logDir, { recursive: true });

const children = [];
function stopAll() {
  for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
}
process.on('SIGINT', () => (stopAll(), process.exit(0)));
process.on('SIGTERM', () => (stopAll(), process.exit(0)));

/** Starts a process whose output goes to .cache/demo/NAME.log; the demo ends if it dies early. */
function start(name, command, args, extraEnv) {
  const log = openSync(join(logDir, `${name}.log`), 'w');
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', log, log] });
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`demo: ${name} exited (${code}); see ${join(logDir, `${name}.log`)}`);
      stopAll();
      process.exit(1);
    }
  });
  children.push(child);
  return child;
}
let stopping = false;
process.on('exit', () => ((stopping = true), stopAll()));

async function waitFor(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s (logs in ${logDir})`);
}
const answers = (url) => fetch(url).then((r) => r.ok);
const redisAnswers = (port) =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (d) => (socket.destroy(), resolve(d.toString().startsWith('+PONG'))));
    socket.once('error', () => resolve(false));
  });

function centrifugoBinary() {
  const bin = env.CENTRIFUGO_BIN ?? join(root, '.cache/centrifugo/centrifugo');
  if (existsSync(bin)) return bin;
  console.error('demo: no Centrifugo binary yet; installing it (scripts/install-centrifugo.sh, needs Go)');
  if (spawnSync('bash', [join(root, 'scripts/install-centrifugo.sh')], { stdio: 'inherit' }).status !== 0) process.exit(1);
  return bin;
}

/** Redis for the service: REDIS_URL if it answers, else a throwaway redis-server, else none. */
async function redisUrl() {
  if (env.REDIS_URL) return env.REDIS_URL;
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.error('demo: no redis-server on PATH; the service runs with its in-process cache only');
    return '';
  }
  start('redis', 'redis-server', ['--port', String(ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitFor('redis', () => redisAnswers(ports.redis));
  return `redis://127.0.0.1:${ports.redis}`;
}

/** Centrifugo's overrides pointing the shipped config at this service (as docker-compose.yml does). */
function centrifugoProxyEnv(secret) {
  const keys = { connect: 'CLIENT_PROXY_CONNECT', refresh: 'CLIENT_PROXY_REFRESH', subscribe: 'CHANNEL_PROXY_SUBSCRIBE', publish: 'CHANNEL_PROXY_PUBLISH', sub_refresh: 'CHANNEL_PROXY_SUB_REFRESH', rpc: 'RPC_PROXY' };
  const out = {};
  for (const [event, key] of Object.entries(keys)) {
    const prefix = `CENTRIFUGO_${key}`;
    if (transport === 'http') {
      out[`${prefix}_ENDPOINT`] = `http://127.0.0.1:${ports.http}/centrifugo/${event}`;
      out[`${prefix}_HTTP_STATIC_HEADERS`] = JSON.stringify({ 'x-proxy-secret': secret });
    } else {
      out[`${prefix}_ENDPOINT`] = `grpc://127.0.0.1:${ports.grpc}`;
      out[`${prefix}_GRPC_CREDENTIALS_VALUE`] = secret;
    }
  }
  return out;
}

const secret = randomBytes(24).toString('hex');
const fromSources = [process.execPath, '--import', 'tsx', join(root, 'src/main.ts')];
try {
  const bin = centrifugoBinary();
  const redis = await redisUrl();
  start('echo', process.execPath, ['examples/demo/echo-upstream.mjs'], { DEMO_ECHO_PORT: String(ports.echo) });
  start('proxy', fromSources[0], [...fromSources.slice(1), 'serve', '--config', demoConfig], {
    HTTP_PORT: String(ports.http),
    GRPC_PORT: String(ports.grpc),
    HTTP_HOST: '127.0.0.1',
    GRPC_HOST: '127.0.0.1',
    PROXY_SECRET: secret,
    REDIS_URL: redis,
    DEMO_ECHO_URL: `http://127.0.0.1:${ports.echo}/echo`,
  });
  await waitFor('the policy proxy', () => answers(`http://127.0.0.1:${ports.http}/readyz`));
  start('centrifugo', bin, ['--config', join(root, `deploy/centrifugo/config-${transport}.json`)], {
    CENTRIFUGO_HTTP_SERVER_ADDRESS: '127.0.0.1',
    CENTRIFUGO_HTTP_SERVER_PORT: String(ports.centrifugo),
    CENTRIFUGO_HTTP_API_KEY: randomBytes(16).toString('hex'),
    CENTRIFUGO_CLIENT_ALLOWED_ORIGINS: `http://localhost:${ports.page} http://127.0.0.1:${ports.page}`,
    ...centrifugoProxyEnv(secret),
  });
  await waitFor('centrifugo', () => answers(`http://127.0.0.1:${ports.centrifugo}/health`));
  start('page', process.execPath, ['examples/demo/serve-page.mjs'], { DEMO_PAGE_PORT: String(ports.page) });
  await waitFor('the demo page', () => answers(`http://127.0.0.1:${ports.page}/`));

  const token = spawnSync(fromSources[0], [...fromSources.slice(1), 'dev-token', '--config', demoConfig, '--user', 'alice', '--roles', 'role:member', '--name', 'Alice'], { cwd: root, encoding: 'utf8' });
  if (token.status !== 0) throw new Error(`dev-token failed: ${token.stderr}`);
  const ws = `ws://localhost:${ports.centrifugo}/connection/websocket`;
  console.log(`demo ready (Centrifugo over ${transport}${redis ? `, Redis ${redis}` : ', no Redis'}; logs in ${logDir})`);
  console.log(`open: http://localhost:${ports.page}/?centrifugo=${encodeURIComponent(ws)}&token=${token.stdout.trim()}`);
  console.log('Ctrl-C stops everything');
} catch (err) {
  console.error(`demo: ${err.message}`);
  stopAll();
  process.exit(1);
}
