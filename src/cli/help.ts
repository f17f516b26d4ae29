/**
 * Help texts: the command list, one command's usage, and the environment variables the service
 * reads. The variables are taken from the bundled config file itself, so the list cannot fall
 * behind it.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import type { CliCommand } from './command.js';

export const PROGRAM = 'centrifugo-policy-proxy';

function bundledConfigVariables(): string[] {
  let text = '';
  try {
    text = readFileSync(DEFAULT_CONFIG_FILE, 'utf8');
  } catch {
    // A package without its config: the help still prints, without that list.
  }
  // Values only: the file's comments explain the ${VAR} syntax itself.
  const values = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  return [...new Set([...values.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string))];
}

export function environmentHelp(): string {
  const lines = [
    ['CONFIG_FILE', 'config file when --config is not given'],
    ...bundledConfigVariables().map((name) => [name, 'read by the bundled config/default.yaml']),
    ['OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_*', 'OpenTelemetry tracing for serve (standard variables)'],
  ];
  const width = Math.max(...lines.map(([name]) => (name as string).length)) + 2;
  return `environment:\n${lines.map(([name, what]) => `  ${(name as string).padEnd(width)}${what}`).join('\n')}`;
}

export function usage(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.usage.length)) + 2;
  const lines = commands.map((c) => `  ${c.usage.padEnd(width)}${c.summary}`);
  return [
    `usage: ${PROGRAM} <command> [--config FILE]`,
    '',
    'commands:',
    ...lines,
    `  ${'help [COMMAND]'.padEnd(width)}this text, or one command's`,
    '',
    `every command takes --config FILE (else $CONFIG_FILE, else config/default.yaml) and --help; ${PROGRAM} --version prints the version`,
    '',
    environmentHelp(),
  ].join('\n');
}

export function commandHelp(command: CliCommand): string {
  return `usage: ${PROGRAM} ${command.usage} [--config FILE]\n\n${command.summary}`;
}
