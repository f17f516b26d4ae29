/**
 * Benchmark processes: every server runs in its own process pinned to core 0 and the load
 * generators on core 1 (when taskset exists), so a figure measures the server, not the client.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TASKSET = '/usr/bin/taskset';
export const CAN_PIN = existsSync(TASKSET);
export const SERVER_CORE = '0';
export const LOAD_CORE = '1';

export function pinSelfToLoadCore(): void {
  if (CAN_PIN) execFileSync(TASKSET, ['-p', '-c', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
}

export interface Started {
  readonly child: ChildProcess;
  readonly ready: { port?: number; grpcPort?: number };
  stop(): Promise<void>;
}

/** Forks a TypeScript server; it sends `{ready: true, ...ports}` (or 'ready') once listening. */
export async function startServer(script: string, env: Record<string, string>, options: { core?: string; nodeArgs?: string[] } = {}): Promise<Started> {
  const core = options.core ?? SERVER_CORE;
  const nodeArgs = [...(options.nodeArgs ?? []), '--import', 'tsx'];
  const child = fork(script, [], {
    env: { ...process.env, ...env },
    ...(CAN_PIN ? { execPath: TASKSET, execArgv: ['-c', core, process.execPath, ...nodeArgs] } : { execArgv: nodeArgs }),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Started['ready']>((resolve, reject) => {
    child.once('message', (m) => resolve(typeof m === 'object' && m !== null ? (m as Started['ready']) : {}));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    child,
    ready,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL if the process has not exited 15 s later; resolves once it has. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a load generator binary on the load core; resolves with its stdout. */
export function runTool(binary: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const [command, argv] = CAN_PIN ? [TASKSET, ['-c', LOAD_CORE, binary, ...args]] : [binary, args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${binary} exited with ${code}: ${err || out}`))));
  });
}

export function haveTool(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
