// The service itself, on the shipped policies, with the in-process decision cache.
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig, DEFAULT_CONFIG_FILE } from '../../src/config/load.js';

const { config } = loadConfig(DEFAULT_CONFIG_FILE, {
  HTTP_PORT: process.env.PORT,
  GRPC_PORT: process.env.GRPC_PORT ?? '0',
  LOG_LEVEL: 'silent',
  ...(process.env.BENCH_CONFIG_ENV ? JSON.parse(process.env.BENCH_CONFIG_ENV) : {}),
});
const app = buildApp(config, { log: pino({ level: 'silent' }) });
const { grpcPort } = await app.start();
process.send?.({ ready: true, grpcPort });
// A clean exit, so `--cpu-prof` gets to write its profile.
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
