/**
 * centrifugo-policy-proxy CLI. Every command takes --config FILE (else $CONFIG_FILE, else the
 * bundled config/default.yaml); each command lives in commands/ and is listed here once.
 */
import { parseArgs } from 'node:util';
import type { CliCommand, Out } from './command.js';
import { checkCommand } from './commands/check.js';
import { devTokenCommand } from './commands/dev-token.js';
import { diffCommand } from './commands/diff.js';
import { explainCommand } from './commands/explain.js';
import { revokeCommand } from './commands/revoke.js';
import { serveCommand } from './commands/serve.js';
import { testCommand } from './commands/test.js';
import { typesCommand } from './commands/types.js';
import { commandHelp, usage as usageFor } from './help.js';
import { packageVersion } from './version.js';
import { generateCommand } from '../codegen/command.js';

const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  checkCommand,
  testCommand,
  explainCommand,
  diffCommand,
  revokeCommand,
  typesCommand,
  generateCommand,
  devTokenCommand,
];

const usage = () => usageFor(COMMANDS);
const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

const stdio: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

export async function runCli(argv: string[], out: Out = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    out.log(packageVersion());
    return 0;
  }
  // Asked-for help goes to stdout with exit 0; help shown because of a mistake goes to stderr with 2.
  if (name === '--help' || name === '-h' || name === 'help') {
    const about = COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && !about) {
      out.error(`unknown command "${rest[0]}"\n\n${usage()}`);
      return 2;
    }
    out.log(about ? commandHelp(about) : usage());
    return 0;
  }
  if (name === undefined) {
    out.error(usage());
    return 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    out.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (wantsHelp(rest)) {
    out.log(commandHelp(command));
    return 0;
  }
  let flags;
  try {
    ({ values: flags } = parseArgs({ args: rest, options: { config: { type: 'string' }, ...command.flags }, strict: true }));
  } catch (err) {
    out.error(`${(err as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  return command.run(flags, out);
}
