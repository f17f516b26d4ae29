/** Policy test cases (policies/tests/*.yaml), run against a built engine. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { PolicyEngine } from './engine.js';

const caseSchema = z
  .object({
    note: z.string().min(1),
    user: z.union([z.string(), z.number()]).transform(String),
    roles: z.array(z.string()).default([]),
    action: z.enum(['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc']),
    object: z.union([z.string(), z.null()]).transform((o) => o ?? '').default(''),
    expect: z.enum(['allow', 'deny']),
  })
  .strict();

const fileSchema = z.union([z.object({ cases: z.array(z.unknown()) }).strict(), z.array(z.unknown())]);

export type PolicyTestCase = z.output<typeof caseSchema> & { readonly file: string; readonly index: number };

export interface TestOutcome {
  readonly testCase: PolicyTestCase;
  readonly passed: boolean;
  readonly got: 'allow' | 'deny';
}

export function testFiles(dir: string): string[] {
  if (dir === '' || !existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) return [dir];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

/** Reads every case; problems (one line each, naming file and case) are returned, not thrown. */
export function loadTestCases(dir: string): { cases: PolicyTestCase[]; problems: string[] } {
  const cases: PolicyTestCase[] = [];
  const problems: string[] = [];
  for (const file of testFiles(dir)) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const parsed = fileSchema.safeParse(doc);
    if (!parsed.success) {
      problems.push(`${file}: expected a list of cases or a mapping with "cases:"`);
      continue;
    }
    const items = Array.isArray(parsed.data) ? parsed.data : parsed.data.cases;
    items.forEach((item, index) => {
      const one = caseSchema.safeParse(item);
      if (one.success) cases.push({ ...one.data, file, index });
      else {
        for (const issue of one.error.issues) {
          problems.push(`${file}: cases[${index}]${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
        }
      }
    });
  }
  return { cases, problems };
}

export function runTestCases(engine: PolicyEngine, cases: readonly PolicyTestCase[]): TestOutcome[] {
  return cases.map((testCase) => {
    const allowed = engine.decide({ user: testCase.user, roles: testCase.roles, action: testCase.action, object: testCase.object });
    const got = allowed ? 'allow' : 'deny';
    return { testCase, passed: got === testCase.expect, got };
  });
}

export function describeFailure(outcome: TestOutcome): string {
  const c = outcome.testCase;
  const roles = c.roles.length ? ` roles=${c.roles.join(',')}` : '';
  return `FAIL ${c.file} cases[${c.index}] "${c.note}": user="${c.user}"${roles} ${c.action} "${c.object}" expected ${c.expect}, got ${outcome.got}`;
}
