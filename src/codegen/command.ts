/** generate --lang ts|python|go|all --out DIR: typed RPC client packages from rpc.routes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configFlag, loadOrReport, type CliCommand } from '../cli/command.js';
import { generateClients, LANGUAGES, type Language } from './generate.js';
import { CodegenError } from './model.js';

export const generateCommand: CliCommand = {
  name: 'generate',
  usage: 'generate --lang ts|python|go|schema|all --out DIR [--name NAME] [--go-module PATH]',
  summary: 'write typed RPC client packages (TypeScript, Python, Go) and a JSON Schema bundle from rpc.routes',
  flags: { lang: { type: 'string', multiple: true }, out: { type: 'string' }, name: { type: 'string' }, 'go-module': { type: 'string' } },
  async run(flags, out) {
    const requested = (Array.isArray(flags.lang) ? flags.lang : []).flatMap((l) => l.split(','));
    const unknown = requested.filter((l) => l !== 'all' && !(LANGUAGES as readonly string[]).includes(l));
    if (requested.length === 0 || unknown.length > 0 || typeof flags.out !== 'string') {
      out.error(`usage: ${this.usage}${unknown.length > 0 ? `\nunknown language: ${unknown.join(', ')}` : ''}`);
      return 2;
    }
    const languages = requested.includes('all') ? LANGUAGES : LANGUAGES.filter((l) => requested.includes(l));
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    let files: Record<string, string>;
    try {
      files = await generateClients(loaded.config, {
        languages: languages as readonly Language[],
        configFile: loaded.file,
        ...(typeof flags.name === 'string' ? { packageName: flags.name } : {}),
        ...(typeof flags['go-module'] === 'string' ? { goModule: flags['go-module'] } : {}),
      });
    } catch (err) {
      if (!(err instanceof CodegenError)) throw err;
      for (const problem of err.problems) out.error(problem);
      return 1;
    }
    for (const [path, text] of Object.entries(files)) {
      const target = join(flags.out, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
    }
    const untyped = loaded.config.rpc.routes.filter((r) => !r.params_schema || !r.result_schema).length;
    out.log(`wrote ${Object.keys(files).length} files for ${languages.join(', ')} into ${flags.out}: ${loaded.config.rpc.routes.length} routes${untyped > 0 ? ` (${untyped} without a params or result schema, typed as any)` : ''}`);
    return 0;
  },
};
