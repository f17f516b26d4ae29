/**
 * The package as npm would publish it: `npm pack` (prepack builds dist/), installed into an
 * empty folder, run through npx. Catches a `files` list that misses something the CLI loads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseDockerfile, readRepoFile } from '../helpers/deploy-files.js';
import { ROOT } from '../helpers/harness.js';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('npm pack → install into an empty folder → npx', { timeout: 150_000 }, () => {
  const app = mkdtempSync(join(tmpdir(), 'cpp-pack-install-'));

  before(async () => {
    // Packed from a copy, so the build prepack runs never rewrites this checkout's dist/ while
    // other tests run. The copy holds what the build and the package need.
    const source = mkdtempSync(join(tmpdir(), 'cpp-pack-src-'));
    const copies = ['package.json', 'package-lock.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin', 'proto', 'config', 'policies'];
    for (const file of copies) cpSync(resolve(ROOT, file), join(source, file), { recursive: true });
    // The build needs the development dependencies: link this checkout's instead of installing.
    await run('ln', ['-s', resolve(ROOT, 'node_modules'), join(source, 'node_modules')]);
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', app], { cwd: source });
    const tarball = stdout.trim().split('\n').at(-1) as string;
    writeFileSync(join(app, 'package.json'), '{"name":"pack-check","version":"1.0.0","private":true}\n');
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(app, tarball)], { cwd: app });
  });

  it('npx centrifugo-policy-proxy --version prints the package version', async () => {
    const { stdout } = await run('npx', ['--no-install', 'centrifugo-policy-proxy', '--version'], { cwd: app });
    assert.equal(stdout.trim(), version);
  });

  it('check passes from the installed package (config, policies and dist/ all shipped)', async () => {
    const { stdout } = await run('npx', ['--no-install', 'centrifugo-policy-proxy', 'check'], { cwd: app });
    assert.match(stdout, /^ok: /);
  });

  it('the package is publishable: a licence, repository, engines, files, and the image copies those files', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as Record<string, unknown>;
    assert.equal(pkg.license, 'MIT');
    assert.equal(pkg.private, undefined);
    assert.ok(pkg.repository && pkg.engines);
    const shipped = new Set(pkg.files as string[]);
    const copied = parseDockerfile(readRepoFile('Dockerfile'))
      .filter((i) => i.stage === 'runtime' && i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(' ').slice(0, -1))
      .filter((f) => !f.startsWith('package'));
    for (const file of copied) assert.ok(shipped.has(file), `${file} is in package.json files`);
  });
});
