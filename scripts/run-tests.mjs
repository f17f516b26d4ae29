// `npm test`: makes sure a Redis answers (REDIS_URL, default redis://127.0.0.1:6379; otherwise
// a throwaway redis-server when one is on PATH) and that the pinned Centrifugo is installed (when
// Go is there), then runs every test file with node's runner.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const redisAnswers = (url) =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = createConnection({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function ensureRedis() {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) return { url };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.error(`No Redis answers at ${url} and redis-server is not on PATH.`);
    console.error('Start one (apt-get install redis-server && redis-server --daemonize yes) or set REDIS_URL.');
    process.exit(1);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cpp-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const throwaway = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await redisAnswers(throwaway)); i++) await new Promise((r) => setTimeout(r, 100));
  console.error(`started a throwaway redis-server at ${throwaway}`);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Nothing in it is worth saving: killed outright, and waited for, so no run leaves it behind.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: throwaway, stop };
}

const testFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );

/**
 * The end-to-end suite needs the pinned Centrifugo: installed here when Go is available (a few
 * minutes the first time, then reused); without Go the suite reports itself skipped.
 */
function ensureCentrifugo() {
  if (process.env.CENTRIFUGO_BIN || existsSync('.cache/centrifugo/centrifugo')) return;
  if (spawnSync('go', ['version']).status !== 0) {
    console.error('No Centrifugo binary and no Go: the end-to-end tests will be skipped (install Go, then: bash scripts/install-centrifugo.sh).');
    return;
  }
  const install = spawnSync('bash', ['scripts/install-centrifugo.sh'], { stdio: 'inherit' });
  if (install.status !== 0) console.error('Installing Centrifugo failed: the end-to-end tests will be skipped (or fail under CI=true).');
}

const redis = await ensureRedis();
ensureCentrifugo();
const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles('test').sort();
// Every temp file the tests make (configs, policy copies, throwaway Redis dirs) goes under one
// directory of this run, removed at the end whatever the tests left behind.
const runTmp = mkdtempSync(join(tmpdir(), 'cpp-test-run-'));
/** The node --test process of the group running now. */
let running;
// An interrupted run (Ctrl-C, a CI timeout) takes its tests, its Redis and its temp files with it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () =>
    void Promise.resolve(running?.kill('SIGTERM'))
      .then(() => redis.stop?.())
      .then(() => {
        rmSync(runTmp, { recursive: true, force: true });
        process.exit(130);
      }),
  );
}
// Tests that compile, npm-install or drive a browser load every core for a minute; run beside
// the timing-sensitive ones (JWKS timeouts, refresh timers) they make those flaky, so they run
// after them.
const HEAVY = /(production-install|npm-pack|demo-page|policy-page-browser)\.test\.ts$/;
/**
 * Node flags a test file asks for on its first line, e.g. `// node-flags: --expose-gc` (the
 * fault suite calls gc()). The runner's per-file processes inherit its flags, so such files run
 * in a group of their own.
 */
const nodeFlags = (file) => /^\/\/ node-flags: (.+)$/m.exec(readFileSync(file, 'utf8').split('\n', 1)[0])?.[1].trim().split(/\s+/) ?? [];
const runFiles = (list, flags = []) =>
  new Promise((resolve) => {
    if (list.length === 0) return resolve(0);
    const child = (running = spawn(process.execPath, [...flags, '--import', 'tsx', '--test', '--test-reporter=spec', ...list], {
      stdio: 'inherit',
      env: { ...process.env, REDIS_URL: redis.url, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', TMPDIR: runTmp },
    }));
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
const groups = new Map();
for (const file of files.filter((f) => !HEAVY.test(f))) {
  const flags = nodeFlags(file).join(' ');
  groups.set(flags, [...(groups.get(flags) ?? []), file]);
}
let code = 0;
for (const [flags, list] of groups) code = (await runFiles(list, flags === '' ? [] : flags.split(' '))) || code;
code = (await runFiles(files.filter((f) => HEAVY.test(f)))) || code;
await redis.stop?.();
rmSync(runTmp, { recursive: true, force: true });
process.exit(code);
