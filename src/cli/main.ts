/**
 * centrifugo-policy-proxy CLI. Every command takes --config FILE (else $CONFIG_FILE, else the
 * bundled config/default.yaml); each command lives in commands/ and is listed here once.
 */
import { parseArgs } from 'node:util';
import type { CliCommand, Out } from './command.js';
import { checkCommand } from './commands/check.js';
import { diffCommand } from './commands/diff.js';
import { explainCommand } from './commands/explain.js';
import { revokeCommand } from './commands/revoke.js';
import { serveCommand } from './commands/serve.js';
import { testCommand } from './commands/test.js';
import { typesCommand } from './commands/types.js';
import { generateCommand } from '../codegen/command.js';

const COMMANDS: readonly CliCommand[] = [serveCommand, checkCommand, testCommand, explainCommand, diffCommand, revokeCommand, typesCommand, generateCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.usage.padEnd(width)}${c.summary}`);
  return `usage: centrifugo-policy-proxy <command> [--config FILE]\n\ncommands:\n${lines.join('\n')}`;
}

const stdio: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

export async function runCli(argv: string[], out: Out = stdio): Promise<number> {
  const [name, ...rest] = argv;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    out.error(usage());
    return 2;
  }
  let flags;
  try {
    ({ values: flags } = parseArgs({ args: rest, options: { config: { type: 'string' }, ...command.flags }, strict: true }));
  } catch (err) {
    out.error(`${(err as Error).message}\n${usage()}`);
    return 2;
  }
  return command.run(flags, out);
}
