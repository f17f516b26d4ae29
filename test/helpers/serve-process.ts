/**
 * The real service as a child process (`src/main.ts serve`), for what only a process shows:
 * signals, draining, the exit code. Ports come from its "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, writeConfig } from './harness.js';
import { lineSplitter, OutputTail } from './output-tail.js';

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** Resolves with the exit code and when the process exited (performance.now()). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** The last 256–512 KiB it wrote to stdout and stderr (for failure messages). */
  output(): string;
  /** Kills it if it still runs (tests call this in `after`). */
  kill(): void;
}

export async function startServeProcess(configYaml: string): Promise<ServeProcess> {
  const file = writeConfig(configYaml);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'serve', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
  });
  const output = new OutputTail();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const ports = new Promise<{ httpPort: number; grpcPort: number }>((resolve, reject) => {
    // Lines are scanned for the "listening" line only until it came; then output is only kept.
    const scan = lineSplitter((line) => {
      if (!line.includes('"listening"')) return;
      const parsed = JSON.parse(line) as { http_port: number; grpc_port: number };
      child.stdout?.off('data', onData);
      resolve({ httpPort: parsed.http_port, grpcPort: parsed.grpc_port });
    });
    const onData = (chunk: Buffer) => scan(chunk.toString());
    child.stdout?.on('data', onData);
    child.stdout?.on('data', (chunk: Buffer) => output.append(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.append(chunk.toString()));
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code} before listening:\n${output.toString()}`)));
    setTimeout(() => reject(new Error(`serve did not listen within 15 s:\n${output.toString()}`)), 15_000).unref();
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    return { child, ...(await ports), exited, output: () => output.toString(), kill };
  } catch (err) {
    kill();
    throw err;
  }
}
