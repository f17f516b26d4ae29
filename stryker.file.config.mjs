// One source file per run, for machines shared with other work (TESTING.md, "Mutation testing"):
//   STRYKER_FILE=src/policy/role-names.ts npx stryker run stryker.file.config.mjs
// Concurrency 1 and an incremental file per source file, so a re-run only tests changed mutants.
// STRYKER_FILE may name lines (src/policy/indexed-engine.ts:137-149) to re-test a few mutants;
// STRYKER_COMMAND replaces the test command (a smaller suite that kills the same mutants);
// STRYKER_TIMEOUT_MS the time over the baseline after which a mutant counts as timed out.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

const base = JSON.parse(readFileSync(new URL('./stryker.config.json', import.meta.url), 'utf8'));
const file = process.env.STRYKER_FILE;
if (!file) throw new Error('set STRYKER_FILE to the source file to mutate, e.g. src/policy/role-names.ts');
const [path, lines] = file.split(':');
const name = basename(path, '.ts') + (lines ? `-${lines}` : '');
delete base.$schema;
delete base._comment;

export default {
  ...base,
  mutate: [file],
  commandRunner: { command: process.env.STRYKER_COMMAND ?? base.commandRunner.command },
  concurrency: 1,
  // A mutant that loops forever costs the whole timeout; 20 s over the baseline still leaves room for a loaded machine.
  timeoutMS: Number(process.env.STRYKER_TIMEOUT_MS ?? 20000),
  // .cache holds a Python venv whose symlinks Stryker's sandbox copy fails on; no unit test needs it.
  ignorePatterns: ['/.cache'],
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
};
