/**
 * SIGTERM under load, on the real process: every request that reached the service before the
 * signal is answered in full (keep-alive HTTP and GRPC alike), later ones may be refused, and
 * the process exits 0 within server.drain_timeout; a request slower than drain_timeout does not
 * hold the exit past it.
 */
import assert from 'node:assert/strict';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { credentials, Metadata, type Client } from '@grpc/grpc-js';
import { proxyServiceClient } from '../../src/transport/grpc/proto.js';
import { jsonToGrpcRequest, ROOT } from '../helpers/harness.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

const configYaml = (upstream: string, drainTimeout: string) => `
http: { port: 0, host: 127.0.0.1 }
grpc: { port: 0, host: 127.0.0.1 }
server: { drain_timeout: ${drainTimeout} }
policy: { model: ${ROOT}/policies/model.conf, policy: ${ROOT}/policies/policy.csv, tests: "", watch: false }
rpc:
  watch: false
  routes:
    - { method: tasks.echo, upstream: "${upstream}/echo", timeout: 5s, max_concurrency: 10000 }
    - { method: tasks.hang, upstream: "${upstream}/hang", timeout: 30s }
log: { level: info }
`;

/** /echo answers after 0–30 ms (so calls are in flight when the signal comes); /hang never. */
async function startUpstream(): Promise<{ url: string; server: Server; hanging: () => number }> {
  let hanging = 0;
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      if (req.url === '/hang') hanging += 1;
      else setTimeout(() => res.end('{"ok":true}'), Math.random() * 30);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hanging: () => hanging };
}

const body = (method: string) =>
  JSON.stringify({ client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', user: '56', method, data: {}, meta: { roles: ['role:member'] } });
const OK = '{"result":{"data":{"ok":true}}}';

interface Sent {
  /** When the request was fully written (HTTP) or started (GRPC), performance.now(). */
  sentAt?: number;
  outcome?: string;
  connection?: string;
}

function postHttp(port: number, agent: Agent, path: string, payload: string): Sent {
  const sent: Sent = {};
  const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res: IncomingMessage) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => {
      sent.connection = res.headers.connection;
      sent.outcome = res.statusCode === 200 && text === OK ? 'ok' : `status ${res.statusCode}: ${text}`;
    });
    res.on('error', (err) => (sent.outcome = `response ${(err as NodeJS.ErrnoException).code ?? err.message}`));
  });
  req.on('finish', () => (sent.sentAt = performance.now()));
  req.on('error', (err) => (sent.outcome ??= (err as NodeJS.ErrnoException).code ?? err.message));
  req.end(payload);
  return sent;
}

function callGrpc(client: Client, payload: string): Sent {
  const sent: Sent = { sentAt: performance.now() };
  type Rpc = (this: Client, r: unknown, m: Metadata, cb: (e: Error | null, v?: { result?: { data?: Buffer } }) => void) => void;
  (client as unknown as { RPC: Rpc }).RPC.call(
    client,
    jsonToGrpcRequest(payload),
    new Metadata(),
    (err, value) => {
      if (err) sent.outcome = err.message;
      else sent.outcome = value?.result?.data?.toString() === '{"ok":true}' ? 'ok' : `unexpected ${JSON.stringify(value)}`;
    },
  );
  return sent;
}

const tally = (list: Sent[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[s.outcome ?? 'no answer'] = (acc[s.outcome ?? 'no answer'] ?? 0) + 1), acc), {});

describe('shutdown', () => {
  const cleanup: Array<() => void> = [];
  after(() => {
    for (const c of cleanup) c();
  });

  it('SIGTERM mid-stream: everything sent before is answered in full, exit 0 within drain_timeout', async () => {
    const up = await startUpstream();
    cleanup.push(() => up.server.close());
    const drainMs = 3000;
    const proc: ServeProcess = await startServeProcess(configYaml(up.url, `${drainMs}ms`));
    cleanup.push(proc.kill);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    cleanup.push(() => agent.destroy());
    const Ctor = proxyServiceClient();
    const grpc = new Ctor(`127.0.0.1:${proc.grpcPort}`, credentials.createInsecure());
    cleanup.push(() => grpc.close());

    const http: Sent[] = [];
    const calls: Sent[] = [];
    let signalAt = Infinity;
    // Readiness seen over one keep-alive connection of its own, while the stream runs.
    const readiness: number[] = [];
    const readyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => readyAgent.destroy());

    // Paced by counts, not by the clock, so a busy machine still sends enough before the signal:
    // 150 requests on each transport written before SIGTERM, then 60 more rounds after it.
    const written = (list: Sent[]) => list.filter((s) => s.sentAt !== undefined).length;
    let afterRounds = 0;
    for (let tick = 0; afterRounds < 60 && tick < 2000; tick++) {
      http.push(postHttp(proc.httpPort, agent, '/centrifugo/rpc', body('tasks.echo')));
      calls.push(callGrpc(grpc, body('tasks.echo')));
      if (tick % 5 === 0) {
        const probe = httpRequest({ host: '127.0.0.1', port: proc.httpPort, path: '/readyz', agent: readyAgent }, (res) => {
          readiness.push(res.statusCode ?? 0);
          res.resume();
        });
        probe.on('error', () => undefined);
        probe.end();
      }
      if (signalAt === Infinity && written(http) >= 150 && calls.length >= 150) {
        signalAt = performance.now();
        proc.child.kill('SIGTERM');
      }
      if (signalAt !== Infinity) afterRounds += 1;
      await sleep(3);
    }
    const exit = await Promise.race([proc.exited, sleep(drainMs + 2000).then(() => undefined)]);
    assert.ok(exit, `the process exits within drain_timeout; output:\n${proc.output()}`);
    // Let the last answers and errors arrive.
    await sleep(100);

    const before = (list: Sent[]) => list.filter((s) => s.sentAt !== undefined && s.sentAt < signalAt);
    const afterSignal = (list: Sent[]) => list.filter((s) => !(s.sentAt !== undefined && s.sentAt < signalAt));
    console.log(
      JSON.stringify({
        exitMsAfterSignal: Math.round(exit.at - signalAt),
        http: { before: tally(before(http)), after: tally(afterSignal(http)) },
        grpc: { before: tally(before(calls)), after: tally(afterSignal(calls)) },
        readiness,
      }),
    );
    assert.equal(exit.code, 0, proc.output());
    assert.ok(exit.at - signalAt < drainMs, `exited ${Math.round(exit.at - signalAt)} ms after SIGTERM`);
    assert.ok(before(http).length >= 150 && before(calls).length >= 150, 'a real stream before the signal');
    assert.deepEqual(tally(before(http)), { ok: before(http).length }, 'every HTTP request sent before SIGTERM got a full 200');
    assert.deepEqual(tally(before(calls)), { ok: before(calls).length }, 'every GRPC call started before SIGTERM got its answer');
    assert.ok(http.some((s) => s.connection === 'close'), 'answers after the signal close their keep-alive connection');
    assert.ok(readiness.includes(503), `readiness turned 503 while draining (saw ${readiness.join(',')})`);
  });

  it('a request slower than drain_timeout does not hold the exit past it', async () => {
    const up = await startUpstream();
    cleanup.push(() => {
      up.server.closeAllConnections();
      up.server.close();
    });
    const drainMs = 500;
    const proc = await startServeProcess(configYaml(up.url, `${drainMs}ms`));
    cleanup.push(proc.kill);
    const agent = new Agent({ keepAlive: true });
    cleanup.push(() => agent.destroy());
    const slow = postHttp(proc.httpPort, agent, '/centrifugo/rpc', body('tasks.hang'));
    for (let i = 0; i < 400 && up.hanging() === 0; i++) await sleep(5);
    assert.equal(up.hanging(), 1, 'the slow call is in flight');
    const signalAt = performance.now();
    proc.child.kill('SIGTERM');
    const exit = await Promise.race([proc.exited, sleep(drainMs + 3000).then(() => undefined)]);
    assert.ok(exit, `the process exits; output:\n${proc.output()}`);
    const took = exit.at - signalAt;
    console.log(JSON.stringify({ drainMs, exitMsAfterSignal: Math.round(took) }));
    assert.equal(exit.code, 0);
    assert.ok(took >= drainMs - 50 && took < drainMs + 1000, `exited ${Math.round(took)} ms after SIGTERM for a ${drainMs} ms drain_timeout`);
    await sleep(50);
    assert.notEqual(slow.outcome, 'ok', 'the slow call was cut off');
  });
});
