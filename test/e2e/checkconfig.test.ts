/**
 * `centrifugo checkconfig --strict` on every shipped Centrifugo config, alone and with the
 * environment overrides docker-compose.yml gives it (Centrifugo parses those values on start:
 * a broken JSON static header would stop it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { composeInterpolate, parseEnvFile, readRepoFile } from '../helpers/deploy-files.js';
import { centrifugoBinary, e2eSuiteOptions, PROXY_TRANSPORTS, ROOT } from './helpers/centrifugo.js';

const run = promisify(execFile);

async function checkconfig(file: string, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(centrifugoBinary() as string, ['checkconfig', '--strict', '--config', file], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('centrifugo checkconfig --strict', e2eSuiteOptions(), () => {
  const compose = parse(composeInterpolate(readRepoFile('docker-compose.yml'), parseEnvFile(readRepoFile('.env.example'))), { merge: true }) as {
    services: Record<string, { environment: Record<string, string> }>;
  };

  for (const transport of PROXY_TRANSPORTS) {
    const file = resolve(ROOT, `deploy/centrifugo/config-${transport}.json`);

    it(`passes on config-${transport}.json`, async () => {
      const result = await checkconfig(file);
      assert.equal(result.code, 0, result.output);
    });

    it(`passes on config-${transport}.json with docker-compose.yml's overrides`, async () => {
      const env = compose.services[`centrifugo-${transport}`]?.environment ?? {};
      assert.ok(Object.keys(env).length > 0);
      const result = await checkconfig(file, env);
      assert.equal(result.code, 0, result.output);
    });
  }

  it('fails on an unknown key (so the passes above mean something)', async () => {
    const result = await checkconfig(resolve(ROOT, 'package.json'));
    assert.notEqual(result.code, 0);
  });
});
