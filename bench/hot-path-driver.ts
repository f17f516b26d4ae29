/**
 * Drives one build of the service in this process without sockets: HTTP requests go straight
 * to the node:http request listener (a minimal request/response pair), GRPC calls through the
 * registered method's own deserializer, handler and serializer. What is left is our code from
 * request bytes to answer bytes, so its CPU time and allocations can be measured per request
 * without the noise of the network stack and of other processes' load (bench/hot-path-cpu.ts,
 * bench/hot-path-alloc.ts). The kernel and node:http / grpc-js framing are the same for every
 * build and are measured by `npm run bench`.
 */
import { EventEmitter } from 'node:events';
import { createServer, Server as HttpServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Metadata, Server as GrpcServer, type sendUnaryData, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import pino from 'pino';
import { CALLER_HEADERS } from './lib/fixtures.js';

export interface Driver {
  /** One HTTP proxy request; resolves with the answer's status and body. */
  http(path: string, body: Buffer): Promise<{ status: number; body: string }>;
  /** One GRPC unary call on `method` with the request message bytes; resolves with the response bytes. */
  grpc(method: string, message: Buffer): Promise<Buffer>;
  stop(): Promise<void>;
}

class FakeRequest extends EventEmitter {
  readonly method = 'POST';
  readonly complete = true;
  constructor(
    readonly url: string,
    readonly rawHeaders: string[],
  ) {
    super();
  }
  resume(): void {}
}

class FakeResponse extends EventEmitter {
  headersSent = false;
  writableFinished = false;
  shouldKeepAlive = true;
  status = 0;
  constructor(private readonly done: (status: number, body: string) => void) {
    super();
  }
  setHeader(): void {}
  writeHead(status: number): this {
    this.status = status;
    this.headersSent = true;
    return this;
  }
  end(body: string): void {
    this.writableFinished = true;
    this.done(this.status, body);
  }
}

/** Builds and starts the app of the checkout at `root` from `configFile` (ports 0, logs silent). */
export async function startDriver(root: string, configFile: string): Promise<Driver> {
  // Before listen is patched below: the sink is not one of the app's servers.
  const sink = process.env.HOT_PATH_TRACING ? await startTracingTo(root, Number(process.env.HOT_PATH_TRACING)) : undefined;
  // The proxy service's definition and handlers as the app registers them.
  let registered: { definition: ServiceDefinition; implementation: UntypedServiceImplementation } | undefined;
  const addService = GrpcServer.prototype.addService;
  GrpcServer.prototype.addService = function (this: GrpcServer, definition: ServiceDefinition, implementation: UntypedServiceImplementation) {
    if ('Subscribe' in definition) registered = { definition, implementation };
    return addService.call(this, definition, implementation);
  };
  const listen = HttpServer.prototype.listen;
  const httpServers: HttpServer[] = [];
  HttpServer.prototype.listen = function (this: HttpServer, ...args: unknown[]) {
    httpServers.push(this);
    return (listen as (...a: unknown[]) => HttpServer).apply(this, args);
  } as typeof listen;

  const { buildApp } = (await import(pathToFileURL(`${root}/src/app.ts`).href)) as typeof import('../src/app.js');
  const { loadConfig } = (await import(pathToFileURL(`${root}/src/config/load.ts`).href)) as typeof import('../src/config/load.js');
  const { config } = loadConfig(configFile, { ...process.env, HTTP_PORT: '0', GRPC_PORT: '0', LOG_LEVEL: 'silent' });
  const app = buildApp(config, { log: pino({ level: 'silent' }) });
  await app.start();
  GrpcServer.prototype.addService = addService;
  HttpServer.prototype.listen = listen;
  const [httpServer] = httpServers;
  if (!registered || !httpServer) throw new Error('the app registered no proxy service or HTTP server');
  const { definition, implementation } = registered;
  const onRequest = httpServer.listeners('request')[0] as RequestListener;
  // The caller secret the bench configs require (caller_auth), as Centrifugo sends it.
  const headers = ['Host', '127.0.0.1', 'Content-Type', 'application/json', 'User-Agent', 'Go-http-client/1.1', ...Object.entries(CALLER_HEADERS).flat()];
  const metadata = new Metadata();
  metadata.set('user-agent', 'grpc-go/1.79.1');
  for (const [name, value] of Object.entries(CALLER_HEADERS)) metadata.set(name, value);
  const noop = () => undefined;

  return {
    http: (path, body) =>
      new Promise((resolve) => {
        const req = new FakeRequest(path, [...headers, 'Content-Length', String(body.length)]);
        const res = new FakeResponse((status, text) => resolve({ status, body: text }));
        onRequest(req as never, res as never);
        req.emit('data', body);
        req.emit('end');
      }),
    grpc: (method, message) =>
      new Promise((resolve, reject) => {
        const spec = definition[method];
        const handler = implementation[method] as (call: unknown, callback: sendUnaryData<unknown>) => void;
        if (!spec || !handler) return reject(new Error(`no method ${method}`));
        const request = spec.requestDeserialize(message);
        handler({ request, metadata, once: noop, on: noop }, (err, value) => (err ? reject(new Error(err.details ?? String(err.code))) : resolve(spec.responseSerialize(value))));
      }),
    stop: async () => {
      await app.stop();
      await sink?.();
    },
  };
}

/**
 * HOT_PATH_TRACING=<ratio>: tracing on in the build at `root`, as main.ts starts it, sampling
 * that share of requests, exporting OTLP/HTTP to a sink in this process that answers 200 (so
 * its CPU is in the figure for both builds alike). Returns what stops both.
 */
async function startTracingTo(root: string, ratio: number): Promise<() => Promise<void>> {
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const { port } = sink.address() as AddressInfo;
  const tracing = (await import(pathToFileURL(`${root}/src/telemetry/tracing.ts`).href)) as typeof import('../src/telemetry/tracing.js');
  // The SDK reads process.env itself.
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
  });
  if (!(await tracing.startTracing(process.env))) throw new Error('tracing did not start');
  return async () => {
    await tracing.stopTracing();
    sink.close();
  };
}
