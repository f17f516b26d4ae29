/**
 * The docs' examples, run: every ```csv block of README.md and docs/*.md loads with the shipped
 * model (and the worked examples, all together, lint clean); a ```csv lint block is followed by
 * the exact warnings `check` prints for it; an example `npx centrifugo-policy-proxy` command
 * followed by `# ` lines prints exactly those lines (paths relative to the repository, the
 * policy version masked).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { lintRules } from '../../src/policy/lint.js';
import { parsePolicyText } from '../../src/policy/policy-source.js';
import { buildEngine } from '../../src/policy/policy-store.js';
import { describeFailure, loadTestCases, runTestCases } from '../../src/policy/test-cases.js';
import { ROOT } from '../helpers/harness.js';

interface Block {
  readonly file: string;
  readonly line: number;
  readonly info: string;
  readonly body: string;
}

function fencedBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ''); i++) body.push((lines[i] ?? '').trim());
    blocks.push({ file, line: start + 1, info: (open[1] ?? '').trim(), body: body.join('\n') });
  }
  return blocks;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const BLOCKS = DOCS.flatMap(fencedBlocks);
const isCsv = (b: Block) => b.info.split(/\s+/)[0] === 'csv';
const prefixesOf = (b: Block) => /role_prefixes=(\S+)/.exec(b.info)?.[1]?.split(',');

function policyDir(csv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-docs-'));
  copyFileSync(join(ROOT, 'policies/model.conf'), join(dir, 'model.conf'));
  writeFileSync(join(dir, 'policy.csv'), csv);
  return dir;
}

/** Shell-like words: double quotes group ("" is an empty word). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

describe('docs: policy examples', () => {
  const csvBlocks = BLOCKS.filter(isCsv);
  it('there are policy examples to check', () => assert.ok(csvBlocks.length >= 7, `${csvBlocks.length} csv blocks`));

  for (const block of csvBlocks) {
    it(`${block.file}:${block.line} loads with the shipped model`, async () => {
      const dir = policyDir(block.body);
      await buildEngine({ model: join(dir, 'model.conf'), policy: join(dir, 'policy.csv'), role_prefixes: prefixesOf(block) });
    });
  }

  it('the worked examples of docs/policies.md, all together, lint clean', () => {
    const worked = csvBlocks.filter((b) => b.file === 'docs/policies.md' && !b.info.includes('lint'));
    const rules = parsePolicyText(worked.map((b) => b.body).join('\n'), 'policy.csv');
    const prefixes = [...new Set(worked.flatMap((b) => prefixesOf(b) ?? ['role:']))];
    assert.deepEqual(lintRules(rules, { rolePrefixes: prefixes }), []);
  });

  for (const block of csvBlocks.filter((b) => b.info.includes('lint'))) {
    it(`${block.file}:${block.line} warns exactly as the docs say`, () => {
      const expected = BLOCKS[BLOCKS.indexOf(block) + 1];
      assert.ok(expected && !isCsv(expected), 'a lint example is followed by its output');
      const got = lintRules(parsePolicyText(block.body, 'policy.csv'), { rolePrefixes: prefixesOf(block) }).map((w) => `warning: ${w}`);
      assert.deepEqual(got, expected.body.split('\n'));
    });
  }
});

describe('docs: test case examples', () => {
  for (const block of BLOCKS.filter((b) => b.info === 'yaml' && b.body.startsWith('cases:'))) {
    it(`${block.file}:${block.line} passes against the shipped policy`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'cpp-docs-')), 'example.yaml');
      writeFileSync(file, block.body);
      const { cases, problems } = loadTestCases(file);
      assert.deepEqual(problems, []);
      assert.ok(cases.length > 0);
      const engine = await buildEngine({ model: join(ROOT, 'policies/model.conf'), policy: join(ROOT, 'policies/policy.csv') });
      assert.deepEqual(runTestCases(engine, cases).filter((o) => !o.passed).map(describeFailure), []);
    });
  }
});

describe('docs: example commands and their output', () => {
  const examples = BLOCKS.filter((b) => b.info === 'sh').flatMap((b) => {
    const lines = b.body.split('\n');
    return lines.flatMap((line, i) => {
      if (!line.startsWith('npx centrifugo-policy-proxy ')) return [];
      const output: string[] = [];
      for (let j = i + 1; j < lines.length && lines[j]?.startsWith('# '); j++) output.push((lines[j] ?? '').slice(2));
      return output.length > 0 ? [{ where: `${b.file}:${b.line}`, command: line, output }] : [];
    });
  });
  it('there are example commands with output', () => assert.ok(examples.length >= 1));

  const mask = (line: string) => line.replace(/\b[0-9a-f]{12}\b/g, '<version>');
  for (const example of examples) {
    it(`${example.where}: ${example.command}`, async () => {
      const out: string[] = [];
      const args = [...words(example.command).slice(2), '--config', join(ROOT, 'config/default.yaml')];
      await runCli(args, { log: (l) => out.push(l), error: (l) => out.push(l) });
      assert.deepEqual(out.map((l) => mask(l.replaceAll(`${ROOT}/`, ''))), example.output.map(mask));
    });
  }
});
