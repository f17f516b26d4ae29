/**
 * The install the Dockerfile's runtime stage performs, on a copy of the repository: only the
 * files it COPYs, dist/ compiled from src/, `npm ci --omit=dev` (from the local npm cache when it
 * can), then `check` and `serve` from there. Catches a runtime import of a development
 * dependency, a file the image lacks, or a bin/ that still needs tsx.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseDockerfile, readRepoFile } from '../helpers/deploy-files.js';
import { ROOT } from '../helpers/harness.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cpp-prod-install-'));

/** The context files the runtime stage copies (dist/ comes from the build stage). */
function runtimeCopies(): string[] {
  return parseDockerfile(readRepoFile('Dockerfile'))
    .filter((i) => i.stage === 'runtime' && i.keyword === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(' ').slice(0, -1));
}

describe('production install (npm ci --omit=dev + dist/)', { timeout: 120_000 }, () => {
  before(async () => {
    for (const source of runtimeCopies()) cpSync(resolve(ROOT, source), join(dir, source), { recursive: true });
    await run(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', resolve(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')]);
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: { ...process.env, NODE_ENV: 'production' } });
  });

  it('has no development dependency installed', () => {
    for (const dev of ['tsx', 'typescript', 'centrifuge']) assert.ok(!existsSync(join(dir, 'node_modules', dev)), dev);
  });

  it('check passes on the bundled config', async () => {
    const { stdout } = await run(process.execPath, ['bin/centrifugo-policy-proxy.js', 'check'], { cwd: dir });
    assert.match(stdout, /^ok: .*config\/default\.yaml/);
  });

  it('serve answers /healthz and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/centrifugo-policy-proxy.js', 'serve'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', GRPC_PORT: '0', LOG_LEVEL: 'info', PROXY_SECRET: 'prod-install-secret-0123456789' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    let httpPort = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = JSON.parse(line) as { msg?: string; http_port?: number };
      if (entry.msg === 'listening') {
        httpPort = entry.http_port ?? 0;
        break;
      }
    }
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
