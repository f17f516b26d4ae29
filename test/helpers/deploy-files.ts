/**
 * Readers for the deployment files the tests check without Docker or Kubernetes: the
 * Dockerfile as instructions, .env files, compose-style ${VAR} interpolation, and the environment
 * variable names a config file reads.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from './harness.js';

export const readRepoFile = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8');

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** The build stage it belongs to (the FROM's `AS` name). */
  readonly stage: string;
}

/** Dockerfile → instructions, with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  const instructions: Instruction[] = [];
  let stage = '';
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    instructions.push({ keyword: upper, args: args.replace(/\s+/g, ' '), stage });
  }
  return instructions;
}

/** KEY=VALUE lines of an .env file. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) vars[match[1] as string] = (match[2] as string).trim();
  }
  return vars;
}

/**
 * Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}. A required variable the
 * environment lacks is reported, as `docker compose config` would refuse it.
 */
export function composeInterpolate(text: string, env: Record<string, string>, missing: string[] = []): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (op === '-') return arg ?? '';
    if (op === '?') missing.push(name);
    return '';
  });
}

/** Names of the ${VAR} variables a config file reads. */
export function configVariables(text: string): Set<string> {
  const values = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  return new Set([...values.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
}

export const parseYamlFile = (path: string): unknown => parse(readRepoFile(path), { merge: true });
export const parseYamlDocuments = (path: string): unknown[] => parseAllDocuments(readRepoFile(path)).map((d) => d.toJS());
