/**
 * Load for the fault suite and the soak: keep-alive HTTP and a GRPC client against a running
 * service, every answer compared with the exact one expected, and the counts each fault
 * reports (sent, failed: no answer / not 200 / a GRPC status; wrong: an answer that is not the
 * expected one).
 */
import { Agent, request as httpRequest } from 'node:http';
import { credentials, Metadata, type Client } from '@grpc/grpc-js';
import { grpcToJson, jsonToGrpcRequest, wireClient } from './harness.js';
import type { TrafficCase, TrafficEvent } from './traffic.js';

export type Transport = 'http' | 'grpc';

/** 'ok', or why not: `failed: ...` (no usable answer, or error 500) or `wrong: ...` (another decision than the expected one). */
export type Outcome = 'ok' | `failed: ${string}` | `wrong: ${string}`;

export interface LoadReport {
  readonly name: string;
  readonly sent: number;
  readonly failed: number;
  readonly wrong: number;
  /** The first few failures and wrong answers, for the assertion message. */
  readonly examples: string[];
  readonly ms: number;
}

/**
 * The answer when no decision could be made in time (server.decision_timeout) or a bug threw:
 * no decision at all, so a failure, not a wrong decision.
 */
const INTERNAL_ERROR = '{"error":{"code":500,"message":"internal error","temporary":true}}';

const GRPC_METHOD: Record<TrafficEvent, string> = { connect: 'Connect', subscribe: 'Subscribe', publish: 'Publish', rpc: 'RPC' };

/** JSON with sorted keys: GRPC answers come in proto field order, HTTP ones in ours. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

export interface LoadClient {
  /** POST a body to a proxy endpoint; the status and body, or throws on a transport error. */
  http(event: string, body: string): Promise<{ status: number; body: string }>;
  /** A unary call with the GRPC request made from the HTTP body; its answer as HTTP JSON. */
  grpc(event: TrafficEvent, body: string): Promise<string>;
  /** One case over one transport, judged. */
  send(c: TrafficCase, transport: Transport): Promise<Outcome>;
  close(): void;
}

export function loadClient(httpPort: number, grpcPort: number, opts: { timeoutMs?: number; basePath?: string } = {}): LoadClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const basePath = opts.basePath ?? '/centrifugo';
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const Ctor = wireClient();
  const grpc = new Ctor(`127.0.0.1:${grpcPort}`, credentials.createInsecure()) as Client & Record<string, unknown>;

  const http: LoadClient['http'] = (event, body) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: httpPort, path: `${basePath}/${event}`, method: 'POST', agent, timeout: timeoutMs, headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });

  const grpcCall: LoadClient['grpc'] = (event, body) =>
    new Promise((resolve, reject) => {
      type Unary = (r: unknown, m: Metadata, o: { deadline: number }, cb: (e: Error | null, v: unknown) => void) => void;
      (grpc[GRPC_METHOD[event]] as Unary).call(grpc, jsonToGrpcRequest(body), new Metadata(), { deadline: Date.now() + timeoutMs }, (err, value) =>
        err ? reject(err) : resolve(canonical(grpcToJson(value))),
      );
    });

  return {
    http,
    grpc: grpcCall,
    async send(c, transport) {
      try {
        if (transport === 'http') {
          const res = await http(c.event, c.body);
          if (res.status !== 200) return `failed: http ${res.status} ${res.body}`;
          if (res.body === c.expected) return 'ok';
          return res.body === INTERNAL_ERROR ? `failed: http ${c.event} ${res.body}` : `wrong: http ${c.event} ${c.body} -> ${res.body}`;
        }
        const got = await grpcCall(c.event, c.body);
        if (got === canonical(JSON.parse(c.expected))) return 'ok';
        return got === canonical(JSON.parse(INTERNAL_ERROR)) ? `failed: grpc ${c.event} ${got}` : `wrong: grpc ${c.event} ${c.body} -> ${got}`;
      } catch (err) {
        const e = err as { code?: unknown; message?: string };
        return `failed: ${transport} ${c.event} ${String(e.code ?? '')} ${e.message ?? String(err)}`;
      }
    },
    close() {
      agent.destroy();
      grpc.close();
    },
  };
}

export interface LoadOptions {
  readonly total: number;
  readonly concurrency: number;
  /** Request i, judged. */
  readonly request: (i: number) => Promise<Outcome>;
  /** Called once when request i is about to be sent (faults are injected here, by count, not by clock). */
  readonly at?: (i: number) => void | Promise<void>;
  /** Checked before each request: true stops sending (the requests in flight still count). */
  readonly stop?: () => boolean;
}

/** Runs `total` requests with `concurrency` in flight and counts the outcomes; prints one JSON line. */
export async function runLoad(name: string, opts: LoadOptions): Promise<LoadReport> {
  const started = performance.now();
  let next = 0;
  let sent = 0;
  let failed = 0;
  let wrong = 0;
  const examples: string[] = [];
  const worker = async () => {
    while (next < opts.total) {
      const i = next++;
      await opts.at?.(i);
      if (opts.stop?.()) return;
      sent += 1;
      const outcome = await opts.request(i);
      if (outcome === 'ok') continue;
      if (outcome.startsWith('failed')) failed += 1;
      else wrong += 1;
      if (examples.length < 5) examples.push(`#${i} ${outcome}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const report = { name, sent, failed, wrong, examples, ms: Math.round(performance.now() - started) };
  console.log(JSON.stringify({ fault: name, sent: report.sent, failed, wrong, ms: report.ms }));
  return report;
}

/** Request i of a traffic mix, alternating transports. */
export const mixed = (client: LoadClient, caseAt: (i: number) => TrafficCase) => (i: number): Promise<Outcome> =>
  client.send(caseAt(i), i % 2 === 0 ? 'http' : 'grpc');

/**
 * One request of every shape over both transports, answers not counted: the first requests of a
 * fresh process compile code and open connections, and on a loaded machine can pass the
 * decision timeout — a cold start, not the fault under test.
 */
export async function warmUp(client: LoadClient, caseAt: (i: number) => TrafficCase, shapes = 14): Promise<void> {
  for (let i = 0; i < shapes; i++) await Promise.all([client.send(caseAt(i), 'http'), client.send(caseAt(i), 'grpc')]);
}
