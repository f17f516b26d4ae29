/**
 * GRPC load with h2load (nghttp2-client): one connection, many concurrent streams, which is how
 * Centrifugo's GRPC proxy talks to a backend (one connection per node). The request body is a
 * pre-encoded GRPC frame, so the load generator does no protobuf work at all. h2load cannot
 * read GRPC answers, so a raw HTTP/2 client checks a sample of them before and after the load
 * (grpc-check.ts); a wrong answer there counts as an error of the row.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { PROTO_FILE, SERVICE_NAME } from '../../src/transport/grpc/proto.js';
import { sampleGrpc } from './grpc-check.js';
import { cpuMeter, perRequestUs } from './proc-cpu.js';
import { runTool } from './processes.js';
import type { LoadResult } from './wrk.js';

/** A length-prefixed GRPC message (uncompressed) holding `message` encoded as `type`. */
export async function grpcFrame(type: string, message: Record<string, unknown>): Promise<Buffer> {
  const root = await protobuf.load(PROTO_FILE);
  const Type = root.lookupType(`centrifugal.centrifugo.proxy.${type}`);
  const bytes = Type.encode(Type.fromObject(message)).finish();
  const header = Buffer.alloc(5);
  header.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

export interface H2loadOptions {
  readonly port: number;
  readonly method: string;
  readonly frameFile: string;
  readonly seconds: number;
  readonly streams: number;
  /** GRPC metadata sent with every call (the caller secret). */
  readonly metadata?: Record<string, string>;
  /** The answer's message bytes every call must get. */
  readonly expectMessage: Buffer;
  /** Calls checked before and after the load (each). */
  readonly sample?: number;
  /** The server's process, for its CPU time over the load (not over the samples). */
  readonly serverPid?: number;
  /** An unmeasured run first, for the JIT (h2load's own warm-up would still cost server CPU the figures do not count). */
  readonly warmSeconds?: number;
}

export async function h2load(options: H2loadOptions): Promise<LoadResult> {
  const sample = () =>
    sampleGrpc({ port: options.port, method: options.method, frame: readFileSync(options.frameFile), expectMessage: options.expectMessage, metadata: options.metadata, count: options.sample ?? 200 });
  if (options.warmSeconds) await h2loadRun({ ...options, seconds: options.warmSeconds });
  const before = await sample();
  const cpu = cpuMeter(options.serverPid);
  const load = await h2loadRun(options);
  const cpuUsed = cpu();
  const after = await sample();
  // A row without a single answer measured nothing: it must not pass as error-free.
  const firstMismatch = load.requests === 0 ? 'no answers' : (before.firstMismatch ?? after.firstMismatch);
  return { ...load, errors: load.errors + before.errors + after.errors + (load.requests === 0 ? 1 : 0), ...(firstMismatch ? { firstMismatch } : {}), ...perRequestUs(cpuUsed, load.requests) };
}

async function h2loadRun(options: H2loadOptions): Promise<LoadResult> {
  const headers = Object.entries(options.metadata ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const url = `http://127.0.0.1:${options.port}/${SERVICE_NAME}/${options.method}`;
  const out = await runTool('h2load', [
    '-c1',
    '-t1',
    `-m${options.streams}`,
    `-D${options.seconds}`,
    `--data=${options.frameFile}`,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    ...headers,
    url,
  ]);
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
  const counts = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const time = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  if (!rps || !counts || !time) throw new Error(`unexpected h2load output:\n${out}`);
  const ms = (value: string, unit: string) => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
  return {
    rps: Number(rps[1]),
    // h2load reports min/max/mean, not percentiles: p50 column shows the mean, p99 the max.
    p50ms: ms(time[5] as string, time[6] as string),
    p99ms: ms(time[3] as string, time[4] as string),
    errors: Number(counts[3]) + Number(counts[4]),
    requests: Number(counts[2]),
  };
}

export function writeFrame(file: string, frame: Buffer): string {
  writeFileSync(file, frame);
  return file;
}
