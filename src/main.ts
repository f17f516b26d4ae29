/**
 * Process entry: tracing starts first (for `serve`, when OTEL_* asks for it), so that everything
 * loaded after it can be traced; then the CLI runs and the process exits with its code.
 */
import { startTracing, stopTracing } from './telemetry/tracing.js';

try {
  if (process.argv[2] === 'serve') await startTracing();
  const { runCli } = await import('./cli/main.js');
  const code = await runCli(process.argv.slice(2));
  await stopTracing();
  process.exit(code);
} catch (err) {
  console.error(err);
  process.exit(1);
}
