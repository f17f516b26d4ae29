// node-flags: --expose-gc
/**
 * RPC upstreams that hang, answer slowly or flap, under load over both transports, with forced
 * garbage collections all along (route timeouts once stopped firing after a GC: issue 14,
 * finding 1): every call is answered within its route timeout (plus a margin for a busy
 * machine) with one of the answers its upstream's state allows, one route's breaker never
 * touches another route of the same upstream, and callers hanging up never open a breaker.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { loadClient, runLoad, type LoadClient, type Outcome } from '../helpers/load.js';

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Only the hanging route's timeout is meant to fire; the others are far above their upstream's
 * answer time, so a 504 there means a lost or starved call, not a slow machine.
 */
const TIMEOUT_MS = { hang: 300, slow: 5000, flap: 5000, echo: 5000 } as const;
type Route = keyof typeof TIMEOUT_MS;
/** How far past its route timeout an answer may come on a loaded 2-core machine. */
const MARGIN_MS = 3000;
const SLOW_MS = 150;
const FLAP_PERIOD_MS = 120;

/** /hang never answers; /slow answers after SLOW_MS; /flap alternates echo and 500 every FLAP_PERIOD_MS; /echo at once. */
async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/hang') return;
      if (req.url === '/slow') return void setTimeout(() => res.end(body), SLOW_MS);
      if (req.url === '/flap' && Math.floor(performance.now() / FLAP_PERIOD_MS) % 2 === 1) {
        res.statusCode = 500;
        return void res.end('{"down":true}');
      }
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const rpcBody = (method: string, n: number, roles = ['role:member']) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: `u${n}`, method, data: { n }, meta: { roles } });

const echo = (n: number) => `{"result":{"data":{"n":${n}}}}`;
const TIMED_OUT = '{"error":{"code":504,"message":"upstream timeout","temporary":true}}';
const UNAVAILABLE = '{"error":{"code":503,"message":"upstream unavailable","temporary":true}}';
const BAD_GATEWAY = '{"error":{"code":502,"message":"bad gateway","temporary":true}}';
const DENY = '{"error":{"code":403,"message":"permission denied"}}';

/** The answers each route's upstream allows for call n (an open breaker's 503 where failures happen). */
const allowed = (route: Route | 'denied', n: number): string[] => {
  switch (route) {
    case 'hang':
      return [TIMED_OUT, UNAVAILABLE];
    case 'slow':
    case 'echo':
      return [echo(n)];
    case 'flap':
      return [echo(n), BAD_GATEWAY, UNAVAILABLE];
    case 'denied':
      return [DENY];
  }
};

describe('fault: hanging, slow and flapping RPC upstreams under load, with forced GCs', () => {
  let up: { server: Server; url: string };
  let h: Harness;
  let client: LoadClient;

  before(async () => {
    assert.equal(typeof gc, 'function', 'this file runs with --expose-gc (its first line; scripts/run-tests.mjs reads it)');
    up = await startUpstream();
    const routes = (Object.keys(TIMEOUT_MS) as Route[])
      .map((r) => `    - { method: tasks.${r}, upstream: "${up.url}/${r}", timeout: ${TIMEOUT_MS[r]}ms, max_concurrency: 10000 }`)
      .join('\n');
    h = await startHarness(testConfigYaml(`rpc:\n  watch: false\n  breaker: { failures: 3, cooldown: 250ms }\n  routes:\n${routes}`));
    client = loadClient(Number(new URL(h.httpUrl).port), h.grpcPort, { timeoutMs: 15_000 });
    // Warm up both transports and every route (first calls compile code and open connections).
    for (const route of Object.keys(TIMEOUT_MS)) await Promise.all([client.http('rpc', rpcBody(`tasks.${route}`, 0)), client.grpc('rpc', rpcBody(`tasks.${route}`, 0))]);
    await sleep(300);
  });
  after(async () => {
    client?.close();
    await h?.stop();
    up?.server.closeAllConnections();
    up?.server.close();
  });

  it('every call answered within its route timeout with an answer its upstream allows; healthy routes untouched', async () => {
    const ROUTES: Array<Route | 'denied'> = ['hang', 'slow', 'flap', 'echo', 'denied'];
    const slowest: Record<string, number> = {};
    const seen = new Map<string, number>();
    let collections = 0;
    // A full collection every GC_EVERY calls, counted by call index rather than by the clock,
    // so a fast machine gets as many as a slow one (a 1 s interval once ran only twice in a
    // 2.8 s load on CI). Hanging calls are always in flight, so each collection can collect
    // their timers.
    const GC_EVERY = 100;
    const report = await runLoad('rpc upstreams hang/slow/flap + gc', {
      total: 800,
      concurrency: 12,
      request: async (i): Promise<Outcome> => {
        if (i % GC_EVERY === GC_EVERY / 2) {
          gc?.();
          collections += 1;
        }
        const route = ROUTES[i % ROUTES.length] as Route | 'denied';
        const method = route === 'denied' ? 'tasks.echo' : `tasks.${route}`;
        const body = route === 'denied' ? rpcBody(method, i, ['role:guest']) : rpcBody(method, i);
        const transport = Math.floor(i / ROUTES.length) % 2 === 0 ? 'http' : 'grpc';
        const started = performance.now();
        let got: string;
        try {
          got = transport === 'http' ? (await client.http('rpc', body)).body : await client.grpc('rpc', body);
        } catch (err) {
          return `failed: ${transport} ${route} ${(err as Error).message}`;
        }
        const ms = performance.now() - started;
        slowest[route] = Math.max(slowest[route] ?? 0, Math.round(ms));
        const answer = transport === 'http' ? got : JSON.stringify(JSON.parse(got));
        const match = allowed(route, i).find((a) => JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(answer)));
        if (!match) return `wrong: ${transport} ${route} #${i} -> ${got}`;
        const kind = `${route} ${match.startsWith('{"result"') ? 'result' : (/"code":(\d+)/.exec(match)?.[1] ?? '')}`;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
        const limit = route === 'denied' ? MARGIN_MS : TIMEOUT_MS[route] + MARGIN_MS;
        if (ms > limit) return `failed: ${transport} ${route} answered after ${Math.round(ms)} ms (limit ${limit})`;
        return 'ok';
      },
    });
    console.log(JSON.stringify({ slowestMs: slowest, answers: Object.fromEntries(seen), gcCalls: collections }));
    assert.deepEqual({ failed: report.failed, wrong: report.wrong }, { failed: 0, wrong: 0 }, report.examples.join('\n'));
    // The faults were real: the hanging upstream timed out and opened its breaker, the flapping one failed.
    assert.ok((seen.get('hang 504') ?? 0) > 0, 'hang: some 504s');
    assert.ok((seen.get('hang 503') ?? 0) > 0, 'hang: its breaker opened (503s)');
    assert.ok((seen.get('flap 502') ?? 0) > 0, 'flap: some 502s');
    assert.equal(collections, 800 / GC_EVERY, 'collections ran all along the load');
  });

  it('callers hanging up (HTTP abort, GRPC deadline) never open the breaker of the route they called', async () => {
    // Calls to /slow abandoned after 60 ms, while the upstream works on them (as when
    // Centrifugo's rpc timeout is shorter than the route's), many times the breaker's threshold,
    // interleaved with calls to the same route that wait: those all get their answer.
    const abandonHttp = (n: number) =>
      new Promise<void>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port: Number(new URL(h.httpUrl).port), path: '/centrifugo/rpc', method: 'POST', headers: { 'content-type': 'application/json' } });
        req.on('error', () => resolve());
        req.end(rpcBody('tasks.slow', n));
        setTimeout(() => (req.destroy(), resolve()), 60);
      });
    const abandonGrpc = (n: number) =>
      new Promise<void>((resolve) => {
        type Unary = (r: unknown, m: Metadata, o: { deadline: number }, cb: (e: Error | null) => void) => void;
        const grpc = h.grpc as unknown as { RPC: Unary };
        grpc.RPC.call(h.grpc, jsonToGrpcRequest(rpcBody('tasks.slow', n)), new Metadata(), { deadline: Date.now() + 60 }, () => resolve());
      });
    let abandoned = 0;
    const collector = setInterval(() => gc?.(), 1000);
    try {
      const report = await runLoad('rpc caller aborts', {
        total: 240,
        concurrency: 6,
        request: async (i): Promise<Outcome> => {
          if (i % 3 !== 2) {
            await (i % 2 === 0 ? abandonHttp(i) : abandonGrpc(i));
            abandoned += 1;
            return 'ok';
          }
          return client.send({ event: 'rpc', body: rpcBody('tasks.slow', i), expected: echo(i), allow: true }, i % 2 === 0 ? 'http' : 'grpc');
        },
      });
      console.log(JSON.stringify({ abandoned }));
      assert.ok(abandoned >= 3 * 30, 'many more abandoned calls than the breaker threshold');
      assert.deepEqual({ failed: report.failed, wrong: report.wrong }, { failed: 0, wrong: 0 }, report.examples.join('\n'));
    } finally {
      clearInterval(collector);
    }
    await sleep(SLOW_MS);
  });
});
