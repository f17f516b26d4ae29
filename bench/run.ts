/**
 * `npm run bench`: every figure measured side by side in one run, as ratios. Each server runs
 * in its own process (pinned to core 0 when taskset exists); the load generator (undici, 64
 * keep-alive connections, like Centrifugo's pooled client) runs here, pinned to core 1.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Pool } from 'undici';

const TASKSET = '/usr/bin/taskset';
if (existsSync(TASKSET)) execFileSync(TASKSET, ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const CONNECTIONS = 64;
const BODY = JSON.stringify({
  client: '9336a229-2400-4ebc-8c50-0a643d22e8a0',
  transport: 'websocket',
  protocol: 'json',
  encoding: 'json',
  user: '56',
  channel: 'chat:room-42',
  meta: { roles: ['role:member'] },
});

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function startServer(script: string, port: number): Promise<ChildProcess> {
  const pin = existsSync(TASKSET);
  const child = fork(script, [], {
    env: { ...process.env, PORT: String(port) },
    ...(pin ? { execPath: TASKSET, execArgv: ['-c', '0', process.execPath, '--import', 'tsx'] } : { execArgv: ['--import', 'tsx'] }),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return child;
}

async function load(name: string, url: string, path: string): Promise<Result> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + DURATION_MS;
  const worker = async () => {
    while (Date.now() < deadline) {
      const start = process.hrtime.bigint();
      try {
        const res = await pool.request({ method: 'POST', path, body: BODY, headers: { 'content-type': 'application/json' } });
        const text = await res.body.text();
        if (res.statusCode !== 200 || text !== '{"result":{}}') errors++;
      } catch {
        errors++;
      }
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  };
  // Warm up, then measure.
  await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.request({ method: 'POST', path, body: BODY, headers: { 'content-type': 'application/json' } }).then((r) => r.body.text())));
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (Date.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors };
}

const targets = [
  { name: 'floor: bare node:http', script: 'bench/servers/bare-node.ts', path: '/centrifugo/subscribe' },
  { name: 'bare express 5 + express.json', script: 'bench/servers/bare-express.ts', path: '/centrifugo/subscribe' },
  { name: 'service: HTTP subscribe (cached decision)', script: 'bench/servers/service.ts', path: '/centrifugo/subscribe' },
];

const results: Result[] = [];
let port = 39100;
for (const target of targets) {
  const server = await startServer(target.script, ++port);
  try {
    results.push(await load(target.name, `http://127.0.0.1:${port}`, target.path));
  } finally {
    server.kill('SIGTERM');
  }
}

const floor = results[0]?.rps ?? 1;
console.log(`\nHTTP, ${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000}s each, load generator in this process\n`);
console.log('| target | req/s | p50 ms | p99 ms | errors | × floor |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${(r.rps / floor).toFixed(2)} |`);
}
