/**
 * What one CLI command is: its name, usage line, the flags it takes and what it runs.
 * A new command is one file in commands/ plus one line in main.ts.
 */
import type { ParseArgsConfig } from 'node:util';
import { chooseConfigFile, ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { PolicyEngine } from '../policy/engine.js';
import { PolicySourceError } from '../policy/policy-source.js';
import { buildEngine, type PolicyPaths } from '../policy/policy-store.js';

export type Out = { log: (line: string) => void; error: (line: string) => void };
export type Flags = Record<string, string | boolean | string[] | undefined>;
export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface CliCommand {
  readonly name: string;
  /** Shown in the usage text, e.g. `explain --user U --action ACT --object OBJ [--json]`. */
  readonly usage: string;
  readonly summary: string;
  /** Flags besides --config, which every command takes. */
  readonly flags: FlagSpec;
  run(flags: Flags, out: Out): Promise<number>;
}

export function configFlag(flags: Flags): string | undefined {
  return typeof flags.config === 'string' ? flags.config : undefined;
}

/** Loads the config, printing one line per problem; undefined when it is invalid. */
export function loadOrReport(file: string | undefined, out: Out): LoadedConfig | undefined {
  try {
    return loadConfig(chooseConfigFile(file));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) out.error(problem);
    return undefined;
  }
}

/** Builds the policy engine, printing the file:line problem; undefined when the policy is invalid. */
export async function engineOrReport(paths: PolicyPaths, out: Out): Promise<PolicyEngine | undefined> {
  try {
    return await buildEngine(paths);
  } catch (err) {
    if (!(err instanceof PolicySourceError)) throw err;
    out.error(err.describe());
    return undefined;
  }
}
