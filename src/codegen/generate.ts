/**
 * `generate`: the client packages for the chosen languages, as relative path → text. Writing
 * them is the command's job, so tests can compare the output without touching the disk.
 */
import { basename } from 'node:path';
import type { Config } from '../config/schema.js';
import { goFiles } from './go.js';
import { buildModel } from './model.js';
import { pythonFiles } from './python.js';
import { schemaBundleFiles } from './schema-bundle.js';
import { typescriptFiles } from './typescript.js';

export const LANGUAGES = ['ts', 'python', 'go', 'schema'] as const;
export type Language = (typeof LANGUAGES)[number];
/** Each language's folder under --out. */
export const LANGUAGE_DIRS: Record<Language, string> = { ts: 'typescript', python: 'python', go: 'go', schema: 'schema' };

export interface GenerateOptions {
  readonly languages: readonly Language[];
  /** The config file (only its base name reaches the output). */
  readonly configFile: string;
  /** Package name: npm name as is, Python's with "_", Go's letters and digits only. */
  readonly packageName?: string;
  /** The Go module path (default: the package name). */
  readonly goModule?: string;
}

export async function generateClients(config: Config, options: GenerateOptions): Promise<Record<string, string>> {
  const model = buildModel(config, basename(options.configFile));
  const name = options.packageName ?? 'rpc-client';
  const files: Record<string, string> = {};
  const put = (language: Language, produced: Record<string, string>) => {
    for (const [path, text] of Object.entries(produced)) files[`${LANGUAGE_DIRS[language]}/${path}`] = text;
  };
  for (const language of options.languages) {
    if (language === 'ts') put(language, await typescriptFiles(model, name));
    if (language === 'python') put(language, pythonFiles(model, name.replace(/[^A-Za-z0-9_]/g, '_')));
    if (language === 'go') put(language, goFiles(model, name, options.goModule ?? name));
    if (language === 'schema') put(language, schemaBundleFiles(model));
  }
  return files;
}
