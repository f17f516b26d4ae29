/**
 * The package's version, read from package.json at run time: src/cli/ and dist/cli/ both sit two
 * levels below it, and a copy in code would drift from what npm and the image label say.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function packageVersion(): string {
  const file = resolve(import.meta.dirname, '../../package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
