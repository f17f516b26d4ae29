/**
 * Starts the real app (both transports, ports chosen by the OS) from a YAML config and gives
 * tests a client for each transport. Every started app is stopped by `stop()`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type Client, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import pino from 'pino';
import { buildApp, type App, type AppOverrides } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { PROTO_FILE } from '../../src/transport/grpc/proto.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Request bodies exactly as Centrifugo v6.9.1 sends them (see the README there). */
export const FIXTURES = resolve(ROOT, 'test/fixtures/centrifugo-requests');

export interface Harness {
  readonly app: App;
  readonly httpUrl: string;
  /** The config file the app was started from (tests may edit it). */
  readonly configFile: string;
  readonly grpcPort: number;
  /** The policy page's port when policy_page.enabled. */
  readonly policyPagePort?: number;
  readonly grpc: Client & Record<string, (...args: unknown[]) => unknown>;
  http(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  call(method: string, request: Record<string, unknown>, metadata?: Record<string, string>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Writes a config file in a temp dir (policy paths default to the shipped policies). */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-test-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function testConfigYaml(extra = '', httpExtra = ''): string {
  return `
http: { port: 0, host: 127.0.0.1${httpExtra} }
grpc: { port: 0, host: 127.0.0.1 }
policy:
  model: ${ROOT}/policies/model.conf
  policy: ${ROOT}/policies/policy.csv
  tests: ${ROOT}/policies/tests
log: { level: silent }
${extra}`;
}

/** A client that shows exactly what is on the wire: absent fields stay absent, bytes stay bytes. */
export function wireClient(): ServiceClientConstructor {
  const definition = loadSync(PROTO_FILE, { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true, bytes: Buffer });
  const root = loadPackageDefinition(definition) as GrpcObject;
  return (((root.centrifugal as GrpcObject).centrifugo as GrpcObject).proxy as GrpcObject).CentrifugoProxy as ServiceClientConstructor;
}

export async function startHarness(configYaml: string, overrides: AppOverrides = {}): Promise<Harness> {
  const file = writeConfig(configYaml);
  const config = parseConfig(configYaml, file);
  const app = buildApp(config, { log: pino({ level: 'silent' }), configFile: file, ...overrides });
  const { httpPort, grpcPort, policyPagePort } = await app.start();
  const Ctor = wireClient();
  const grpc = new Ctor(`127.0.0.1:${grpcPort}`, credentials.createInsecure()) as Harness['grpc'];
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  return {
    app,
    httpUrl,
    configFile: file,
    grpcPort: grpcPort as number,
    policyPagePort,
    grpc,
    async http(path, body, headers = {}) {
      const response = await fetch(`${httpUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      return { status: response.status, body: await response.text() };
    },
    call(method, request, metadata = {}) {
      const md = new Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise((resolvePromise, reject) => {
        (grpc[method] as (r: unknown, m: Metadata, cb: (e: Error | null, v: Record<string, unknown>) => void) => void).call(
          grpc,
          request,
          md,
          (err, value) => (err ? reject(err) : resolvePromise(value)),
        );
      });
    },
    async stop() {
      grpc.close();
      await app.stop();
    },
  };
}

const RAW_FIELDS = new Set(['data', 'info', 'meta']);

/** The JSON body of an HTTP proxy request as the GRPC request message Centrifugo would send. */
export function jsonToGrpcRequest(body: string): Record<string, unknown> {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, RAW_FIELDS.has(k) ? Buffer.from(JSON.stringify(v)) : v]),
  );
}

/** A GRPC response in Centrifugo's HTTP JSON form, to compare the two transports' answers. */
export function grpcToJson(value: unknown, key = ''): unknown {
  if (Buffer.isBuffer(value)) return RAW_FIELDS.has(key) ? JSON.parse(value.toString('utf8')) : value.toString('base64');
  if (Array.isArray(value)) return value.map((v) => grpcToJson(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, grpcToJson(v, k)]));
  }
  return value;
}
