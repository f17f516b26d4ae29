/**
 * The demo a person looks at, driven the way they would: `npm run demo`'s script starts the
 * stack (real Centrifugo, the service with the demo config, the echo upstream, the page), and
 * headless Chromium (Debian's, driven by playwright-core) opens the link it prints. The page must
 * show: connected, subscribed and published to chat:demo, its own message received, the
 * forbidden channel refused with 403, and the RPC answer from the upstream.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { e2eSuiteOptions, freePort, ROOT } from './helpers/centrifugo.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

function suiteOptions(): { skip?: string } {
  const centrifugo = e2eSuiteOptions();
  if (centrifugo.skip) return centrifugo;
  return existsSync(CHROMIUM) ? {} : { skip: `no Chromium at ${CHROMIUM}; install it with: apt-get install -y chromium` };
}

describe('demo page in headless Chromium (npm run demo)', suiteOptions(), () => {
  let demo: ChildProcess;
  let browser: Browser;
  let link = '';

  before(async () => {
    const env: Record<string, string> = {};
    for (const name of ['PAGE', 'CENTRIFUGO', 'HTTP', 'GRPC', 'ECHO', 'REDIS']) env[`DEMO_${name}_PORT`] = String(await freePort());
    demo = spawn(process.execPath, ['scripts/demo.mjs'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    for await (const line of createInterface({ input: demo.stdout as NodeJS.ReadableStream })) {
      if (line.startsWith('open: ')) {
        link = line.slice('open: '.length);
        break;
      }
    }
    assert.match(link, /^http:\/\/localhost:\d+\/\?centrifugo=.*&token=ey/);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });

  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = new Promise((done) => demo.once('exit', done));
      demo.kill('SIGTERM');
      await exited;
    }
  });

  it('shows connect, chat, the refused channel with its code, and the RPC answer', async () => {
    const page = await browser.newPage();
    await page.goto(link);
    await page.locator('[data-step=rpc]').waitFor({ timeout: 15_000 });
    await page.locator('[data-step=receive]').waitFor({ timeout: 5_000 });
    const text = async (step: string) => (await page.locator(`[data-step=${step}]`).first().textContent()) ?? '';
    assert.match(await page.locator('#status').textContent() ?? '', /^connected as alice$/);
    assert.match(await text('connect'), /connected to ws:\/\/localhost:\d+\/connection\/websocket as "alice"/);
    assert.equal(await text('subscribe'), 'subscribed to chat:demo (subscribe allowed)');
    assert.equal(await text('publish'), 'published to chat:demo (publish allowed)');
    assert.equal(await text('receive'), 'received our own message on chat:demo: "hello from the demo page"');
    assert.equal(await text('forbidden'), 'personal:someone-else refused: code 403 "permission denied"');
    const rpc = await text('rpc');
    assert.match(rpc, /^rpc tasks\.echo answered: /);
    assert.deepEqual(JSON.parse(rpc.slice(rpc.indexOf('{'))), { echoed_by: 'demo echo upstream', user: 'alice', params: { text: 'ping' } });
    assert.equal(await page.locator('#messages li').first().textContent(), 'alice: hello from the demo page');
    if (process.env.DEMO_SCREENSHOT) await page.screenshot({ path: process.env.DEMO_SCREENSHOT, fullPage: true });
  });

  it('a message typed into the form arrives on chat:demo', async () => {
    const page = await browser.newPage();
    await page.goto(link);
    await page.locator('[data-step=rpc]').waitFor({ timeout: 15_000 });
    await page.fill('#message', 'typed by a person');
    await page.click('#publish button');
    await page.locator('#messages li', { hasText: 'alice: typed by a person' }).waitFor({ timeout: 5_000 });
  });
});
