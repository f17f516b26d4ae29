// `npm run fuzz`: the fuzz tests with many more inputs (FUZZ_RUNS, default 200,000 per test;
// FUZZ_SEED to replay a run), through the same runner as `npm test`.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS ?? '200000' };
const run = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'test/fuzz/http-bodies.test.ts', 'test/fuzz/grpc-frames.test.ts'], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
