/** Process entry: run the CLI and exit with its code. */
import { runCli } from './cli/main.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
