/**
 * The toolchains the codegen tests check generated clients with: the project's own TypeScript,
 * a venv with mypy and centrifuge-python (scripts/install-codegen-python.sh) and Go with the
 * module cache. A missing toolchain skips its suite visibly, naming the fix; under CI=true it
 * fails instead, as e2eSuiteOptions does for Centrifugo.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config/schema.js';
import { generateClients, type Language } from '../../src/codegen/generate.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const VENV_PYTHON = join(ROOT, '.cache/codegen-venv/bin/python');
export const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
export const GO_MODULE = 'example.com/rpcclient';

export interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs a command to its end (asynchronously: the e2e service shares this process). */
export async function run(command: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

function skipOrFail(why: string, fix: string): { skip: string } {
  if (process.env.CI === 'true') throw new Error(`CI=true and ${why}: ${fix}`);
  return { skip: `${why}; ${fix}` };
}

let python: { skip?: string } | undefined;
/** `describe` options for suites that run the generated Python: the venv installed (once per run) or a visible skip. */
export function pythonSuiteOptions(): { skip?: string } {
  if (python) return python;
  const install = spawnSync('bash', [join(ROOT, 'scripts/install-codegen-python.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  python = install.status === 0 ? {} : skipOrFail(`no Python venv for the codegen checks (${(install.stderr || install.error?.message || '').trim().split('\n').pop()})`, 'run bash scripts/install-codegen-python.sh (needs python3 >= 3.11 and PyPI)');
  return python;
}

/** `describe` options for suites that build the generated Go: Go on PATH, or a visible skip. */
export function goSuiteOptions(): { skip?: string } {
  if (spawnSync('go', ['version']).status === 0) return {};
  return skipOrFail('no Go toolchain for the codegen checks', 'install Go 1.25 or later (and reach the Go module proxy once)');
}

/**
 * Generates the clients into a fresh folder under .cache/ (inside the repository, so the
 * generated TypeScript finds the `centrifuge` package in node_modules).
 */
export async function generateInto(config: Config, languages: readonly Language[], configFile = 'routes.yaml'): Promise<string> {
  const base = join(ROOT, '.cache/codegen-test');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'out-'));
  // Removed when the test process ends (Go's module cache keeps what the builds fetched).
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await writeGenerated(dir, config, languages, configFile);
  return dir;
}

export async function writeGenerated(dir: string, config: Config, languages: readonly Language[], configFile = 'routes.yaml'): Promise<void> {
  const files = await generateClients(config, { languages, configFile, goModule: GO_MODULE });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

export const tscStrict = (dir: string, files: readonly string[]): Promise<Run> =>
  run(process.execPath, [TSC, '--strict', '--noEmit', '--noUnusedLocals', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck', ...files], { cwd: dir });

export const mypyStrict = (dir: string, targets: readonly string[]): Promise<Run> =>
  run(VENV_PYTHON, ['-m', 'mypy', '--strict', '--no-error-summary', '--cache-dir', join(ROOT, '.cache/codegen-mypy'), ...targets], { cwd: dir });

/** go mod tidy (fills go.sum from the module cache or proxy), then go vet. */
export async function goVet(dir: string): Promise<Run> {
  const tidy = await run('go', ['mod', 'tidy'], { cwd: dir });
  if (tidy.code !== 0) return tidy;
  return run('go', ['vet', './...'], { cwd: dir });
}
