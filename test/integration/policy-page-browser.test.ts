/**
 * The policy page in headless Chromium (Debian's, driven by playwright-core), used the way a
 * security engineer would: log in with the token, read the policy version, explain an allow
 * and a deny and see the deciding line, read the test results and a candidate disagreement,
 * see a reload after Refresh. Policy lines and typed-in values holding HTML show as text.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const TOKEN = 'browser-page-token-0123456789';
/** Untrusted text in a policy line: must show as written, never become markup. */
const HTML_RULE = 'p, role:member, lab:<b id=injected>bold</b>, subscribe, allow';

describe('policy page in headless Chromium', existsSync(CHROMIUM) ? {} : { skip: `no Chromium at ${CHROMIUM}; install it with: apt-get install -y chromium` }, () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let policyFile = '';
  const problems: string[] = [];
  const lineOf = (text: string) => readFileSync(policyFile, 'utf8').split('\n').indexOf(text) + 1;

  before(async () => {
    const live = mkdtempSync(join(tmpdir(), 'cpp-page-live-'));
    const candidate = mkdtempSync(join(tmpdir(), 'cpp-page-candidate-'));
    const csv = `${readFileSync(`${ROOT}/policies/policy.csv`, 'utf8')}${HTML_RULE}\n`;
    for (const dir of [live, candidate]) copyFileSync(`${ROOT}/policies/model.conf`, join(dir, 'model.conf'));
    policyFile = join(live, 'policy.csv');
    writeFileSync(policyFile, csv);
    writeFileSync(join(candidate, 'policy.csv'), csv.replace('p, 666, *, publish, deny', ''));
    const yaml = testConfigYaml(`policy_page: { enabled: true, port: 0, token: "${TOKEN}" }`)
      .replace(`model: ${ROOT}/policies/model.conf`, `model: ${live}/model.conf`)
      .replace(`policy: ${ROOT}/policies/policy.csv`, `policy: ${policyFile}\n  candidate: ${candidate}\n  watch: false`);
    h = await startHarness(yaml);
    const body = JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user: '666', channel: 'chat:lobby', data: {}, meta: { roles: ['role:member'] } });
    await h.http('/centrifugo/publish', body);
    await h.http('/centrifugo/publish', body.replace('chat:lobby', 'chat:<script>alert(2)</script>'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage();
    // Any script error, CSP violation or dialog (an injected alert) fails the test.
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => void (problems.push(`dialog: ${d.message()}`), d.dismiss()));
  });

  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();
  async function explain(user: string, roles: string, action: string, object: string) {
    await page.fill('#user', user);
    await page.fill('#roles', roles);
    await page.fill('#action', action);
    await page.fill('#object', object);
    const answered = page.waitForResponse((r) => r.url().includes('/api/explain'));
    await page.click('#explain button[type=submit]');
    await answered;
    await page.locator('#explain-result').waitFor({ state: 'visible' });
  }

  it('logs in with the token and shows the live policy version and rules', async () => {
    await page.goto(`http://127.0.0.1:${h.policyPagePort}/`);
    assert.match(page.url(), /\/login$/);
    await page.fill('#token', 'a-wrong-token-0123456789');
    await page.click('button[type=submit]');
    assert.equal(await text('#refused'), "That token is not the policy page's token.");
    problems.length = 0; // the refused login's 401, logged by Chromium
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.locator('#rules tr').first().waitFor();
    assert.equal(await text('#version'), h.app.policy.current().version);
    assert.match(await text('#candidate-version'), /^[0-9a-f]+$/);
    const rows = await page.locator('#rules tr').count();
    assert.equal(rows, h.app.policy.current().source.rules.length);
    const htmlRow = page.locator('#rules tr').last();
    assert.equal(await htmlRow.locator('td').nth(0).textContent(), `${policyFile}:${lineOf(HTML_RULE)}`);
    assert.equal(await htmlRow.locator('td').nth(1).textContent(), HTML_RULE);
    assert.equal(await page.locator('#injected').count(), 0, 'the policy line stays text');
  });

  it('explains an allow and a deny with the deciding line and the role chain', async () => {
    await explain('56', 'role:member', 'publish', 'chat:lobby');
    assert.equal(await text('#decision'), 'allow');
    assert.equal(await page.locator('#decision').getAttribute('class'), 'allow');
    const allowLine = 'p, role:member, chat:*, publish, allow';
    assert.equal(await text('#deciding li code'), `${policyFile}:${lineOf(allowLine)}: ${allowLine}`);
    assert.equal(await text('#deciding li .via'), 'held via the token role role:member');

    await explain('666', 'role:member', 'publish', 'chat:lobby');
    assert.equal(await text('#decision'), 'deny');
    const denyLine = 'p, 666, *, publish, deny';
    assert.equal(await text('#deciding li code'), `${policyFile}:${lineOf(denyLine)}: ${denyLine}`);
    assert.equal(await text('#matched li code'), `${policyFile}:${lineOf(allowLine)}: ${allowLine}`);
  });

  it('shows typed-in HTML as text, with near misses and the unknown-action warning', async () => {
    const object = 'lab:<script>alert(1)</script>';
    await explain('56', 'role:member', 'subscribe', object);
    assert.equal(await text('#decision'), 'deny');
    assert.equal(await text('#deciding li'), 'no rule matched (default deny)');
    assert.equal(await text('#near-misses li'), `${policyFile}:${lineOf(HTML_RULE)}: ${HTML_RULE} ("${object}" does not match "lab:<b id=injected>bold</b>")`);
    assert.equal(await page.locator('#explain-result script').count(), 0);
    assert.equal(await page.locator('#injected').count(), 0);
    await explain('56', 'role:member', 'publsh', 'chat:lobby');
    assert.match(await text('#explain-warnings li'), /^unknown action "publsh" \(did you mean "publish"\?\)/);
    assert.equal(await text('#near-misses li'), `${policyFile}:${lineOf('p, role:member, chat:*, publish, allow')}: p, role:member, chat:*, publish, allow (it is for publish, not publsh)`);
  });

  it('shows the test results with coverage and the candidate disagreement', async () => {
    assert.match(await text('#tests-summary'), /^\d+ passed, 0 failed$/);
    assert.match(await text('#coverage li'), /^coverage: \d+ of \d+ rule lines exercised by \d+ cases$/);
    assert.ok((await page.locator('#coverage li', { hasText: `not exercised: ${policyFile}:${lineOf(HTML_RULE)}: ${HTML_RULE}` }).count()) === 1);
    assert.ok((await page.locator('#cases tr').count()) > 10);
    assert.match(await text('#disagreements-summary'), /^2 disagreement\(s\) since start with candidate [0-9a-f]+; the latest 2 \(of at most 100\) below\.$/);
    const cells = async (row: number) => (await page.locator('#disagreements tr').nth(row).locator('td').allTextContents()).slice(1);
    assert.deepEqual(await cells(0), ['666', 'role:member', 'publish', 'chat:<script>alert(2)</script>', 'deny', 'allow'], 'newest first, HTML as text');
    assert.deepEqual(await cells(1), ['666', 'role:member', 'publish', 'chat:lobby', 'deny', 'allow']);
    assert.equal(await page.locator('#disagreements script').count(), 0);
  });

  it('Refresh shows a reloaded policy\'s version', async () => {
    const before = await text('#version');
    appendFileSync(policyFile, 'p, role:auditor, audit:*, subscribe, allow\n');
    assert.equal((await h.app.policy.reload('test')).result, 'loaded');
    await page.click('#refresh');
    await page.waitForFunction((old) => document.getElementById('version')?.textContent !== old, before);
    assert.equal(await text('#version'), h.app.policy.current().version);
    assert.deepEqual(problems, []);
  });
});
