/**
 * Run by test/contract/rpc-timeout-gc.test.ts in a child started with --expose-gc: a route
 * whose upstream never answers its first call, garbage collections while that call waits, and
 * then the numbers the test checks, printed as one JSON line.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonToGrpcRequest, startHarness, testConfigYaml } from './harness.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const TIMEOUT_MS = 400;
/** How long we wait for an answer before calling it lost (the timeout never fired). */
const GIVE_UP_MS = 12_000;

let calls = 0;
const upstream = createServer((req, res) => {
  calls += 1;
  // The first call of each transport hangs for good; the ones after answer at once.
  if (calls % 2 === 1) return;
  req.resume().on('end', () => res.end('{"ok":true}'));
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const h = await startHarness(
  testConfigYaml(`
rpc:
  routes:
    - { method: tasks.hang, upstream: "${url}/hang", timeout: ${TIMEOUT_MS}ms, max_concurrency: 1 }`),
);

const body = JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', method: 'tasks.hang', data: {}, meta: { roles: ['role:member'] } });
const viaHttp = async () => (await h.http('/centrifugo/rpc', body)).body;
const viaGrpc = async () => {
  const answer = (await h.call('RPC', jsonToGrpcRequest(body))) as { error?: { code: number } };
  return answer.error ? `error ${answer.error.code}` : 'result';
};

/** One hanging call with collections while it waits: how long it took and what came back. */
async function hangingCall(send: () => Promise<string>) {
  const started = performance.now();
  const collector = setInterval(() => gc?.(), 100);
  const answer = await Promise.race([send(), new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), GIVE_UP_MS))]);
  clearInterval(collector);
  const ms = Math.round(performance.now() - started);
  // The slot must be free again: the next call (answered at once upstream) is not a 429.
  const next = await Promise.race([send(), new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), GIVE_UP_MS))]);
  return { answer, ms, next };
}

const http = await hangingCall(viaHttp);
const grpc = await hangingCall(viaGrpc);
console.log(JSON.stringify({ timeoutMs: TIMEOUT_MS, http, grpc }));
// Stuck calls may still be holding sockets: do not wait for a graceful stop.
process.exit(0);
