/**
 * The real Centrifugo (v6.9.1, installed by scripts/install-centrifugo.sh) as a child process,
 * started from the repository's own config files in deploy/centrifugo/ with addresses and
 * secrets given through Centrifugo's CENTRIFUGO_* environment overrides, exactly as an operator
 * would deploy them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../../helpers/ports.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CENTRIFUGO_VERSION = '6.9.1';
const INSTALL_HINT = 'bash scripts/install-centrifugo.sh';

export type ProxyTransport = 'http' | 'grpc';
export const PROXY_TRANSPORTS: readonly ProxyTransport[] = ['http', 'grpc'];

/** The binary: $CENTRIFUGO_BIN, else the one the install script puts in .cache/. */
export function centrifugoBinary(): string | undefined {
  const candidates = [process.env.CENTRIFUGO_BIN, resolve(ROOT, '.cache/centrifugo/centrifugo')];
  return candidates.find((file): file is string => !!file && existsSync(file));
}

/**
 * `describe` options for an end-to-end suite: skipped (visibly, with the command that fixes it)
 * when no binary can be had, but a failure under CI=true, where a missing binary is a broken
 * set-up rather than a laptop without Go.
 */
export function e2eSuiteOptions(): { skip?: string } {
  if (centrifugoBinary()) return {};
  if (process.env.CI === 'true') throw new Error(`CI=true and no Centrifugo binary: run ${INSTALL_HINT} first`);
  return { skip: `no Centrifugo binary; install it with: ${INSTALL_HINT}` };
}

export { freePort };

export interface CentrifugoOptions {
  readonly transport: ProxyTransport;
  /** Where our service listens: http://127.0.0.1:PORT (HTTP proxies) and 127.0.0.1:PORT (GRPC). */
  readonly proxyHttpUrl: string;
  readonly proxyGrpcAddress: string;
  /** The caller secret Centrifugo sends (static header / GRPC credentials). */
  readonly proxySecret: string;
  /** Every proxy object's binary_encoding. */
  readonly binaryEncoding?: boolean;
  /** More CENTRIFUGO_* overrides (e.g. shorter timers for tests). */
  readonly env?: Record<string, string>;
  /** Another config file from deploy/centrifugo/ (default: config-<transport>.json). */
  readonly configFile?: string;
  /** The HTTP port to listen on (default: a free one), for services that must know it first. */
  readonly port?: number;
}

export interface Centrifugo {
  readonly pid: number;
  readonly wsUrl: string;
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Server API call (POST /api/METHOD); throws on a transport or API error. */
  api(method: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Everything Centrifugo logged so far (for assertions and failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const EVENT_KEYS = {
  connect: 'CLIENT_PROXY_CONNECT',
  refresh: 'CLIENT_PROXY_REFRESH',
  subscribe: 'CHANNEL_PROXY_SUBSCRIBE',
  publish: 'CHANNEL_PROXY_PUBLISH',
  sub_refresh: 'CHANNEL_PROXY_SUB_REFRESH',
  rpc: 'RPC_PROXY',
} as const;

/** The CENTRIFUGO_* variables that point the repository's config file at this test's service. */
export function proxyEnv(options: CentrifugoOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [event, key] of Object.entries(EVENT_KEYS)) {
    const prefix = `CENTRIFUGO_${key}`;
    if (options.transport === 'http') {
      env[`${prefix}_ENDPOINT`] = `${options.proxyHttpUrl}/centrifugo/${event}`;
      env[`${prefix}_HTTP_STATIC_HEADERS`] = JSON.stringify({ 'x-proxy-secret': options.proxySecret });
    } else {
      env[`${prefix}_ENDPOINT`] = `grpc://${options.proxyGrpcAddress}`;
      env[`${prefix}_GRPC_CREDENTIALS_VALUE`] = options.proxySecret;
    }
    if (options.binaryEncoding) env[`${prefix}_BINARY_ENCODING`] = 'true';
  }
  return env;
}

export async function startCentrifugo(options: CentrifugoOptions): Promise<Centrifugo> {
  const configFile = resolve(ROOT, 'deploy/centrifugo', options.configFile ?? `config-${options.transport}.json`);
  return launchCentrifugo(configFile, { ...proxyEnv(options), ...options.env }, [], options.port);
}

/**
 * Starts Centrifugo from any config file with CENTRIFUGO_* overrides (the address, port and API
 * key are set here); `launcher` prefixes the command (e.g. `taskset -c 0`, which execs the
 * binary, so `pid` stays Centrifugo's own).
 */
export async function launchCentrifugo(configFile: string, env: Record<string, string> = {}, launcher: readonly string[] = [], fixedPort?: number): Promise<Centrifugo> {
  const binary = centrifugoBinary();
  if (!binary) throw new Error(`no Centrifugo binary: ${INSTALL_HINT}`);
  const port = fixedPort ?? (await freePort());
  const apiKey = 'e2e-centrifugo-api-key';
  const [command = binary, ...args] = [...launcher, binary, '--config', configFile];
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      CENTRIFUGO_HTTP_SERVER_ADDRESS: '127.0.0.1',
      CENTRIFUGO_HTTP_SERVER_PORT: String(port),
      CENTRIFUGO_HTTP_API_KEY: apiKey,
      CENTRIFUGO_LOG_LEVEL: 'info',
      ...env,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`centrifugo exited with ${child.exitCode}:\n${output}`);
    try {
      const health = await fetch(`${base}/health`);
      if (health.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`centrifugo did not answer /health within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    pid: child.pid as number,
    wsUrl: `ws://127.0.0.1:${port}/connection/websocket`,
    apiUrl: `${base}/api`,
    apiKey,
    async api(method, body) {
      const response = await fetch(`${base}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      if (!response.ok || answer.error) throw new Error(`centrifugo api ${method}: ${response.status} ${JSON.stringify(answer)}`);
      return answer;
    },
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
