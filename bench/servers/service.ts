// The service itself, from the config file in BENCH_CONFIG (default: the bundled one). Tracing
// starts first when OTEL_* asks for it, as in src/main.ts.
import pino from 'pino';
import { startTracing, stopTracing } from '../../src/telemetry/tracing.js';

await startTracing();
const { buildApp } = await import('../../src/app.js');
const { DEFAULT_CONFIG_FILE, loadConfig } = await import('../../src/config/load.js');
const { config } = loadConfig(process.env.BENCH_CONFIG ?? DEFAULT_CONFIG_FILE, {
  ...process.env,
  HTTP_PORT: process.env.PORT,
  GRPC_PORT: process.env.GRPC_PORT ?? '0',
  LOG_LEVEL: 'silent',
  // Each process its own Redis key prefix (the bench configs use it): a fresh server starts cold.
  BENCH_INSTANCE: String(process.pid),
});
const app = buildApp(config, { log: pino({ level: 'silent' }) });
const { httpPort, grpcPort } = await app.start();
process.send?.({ ready: true, port: httpPort, grpcPort });
// A clean exit, so `--cpu-prof` gets to write its profile.
process.once('SIGTERM', () => void app.stop().then(stopTracing).then(() => process.exit(0)));
