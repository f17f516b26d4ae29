/** Policy test cases (policies/tests/*.yaml), run against a built engine. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { EMPTY_OBJECT_ACTIONS } from './actions.js';
import type { PolicyEngine } from './engine.js';
import { runAtOnce, type Steps } from './time-slices.js';
import { yamlSteps } from './yaml-steps.js';

/**
 * One case. Every field but `roles` is required: a case without `object` would quietly ask about
 * "" (what connect and refresh ask), so `object: ""` must be written, and only those two may use it.
 */
const caseSchema = z
  .object({
    note: z.string().min(1),
    user: z.union([z.string(), z.number()]).transform(String),
    roles: z.array(z.string()).default([]),
    action: z.enum(['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc']),
    object: z.union([z.string(), z.number()]).transform(String),
    expect: z.enum(['allow', 'deny']),
  })
  .strict()
  .superRefine((c, ctx) => {
    const empty = EMPTY_OBJECT_ACTIONS.has(c.action);
    if (empty && c.object !== '') ctx.addIssue({ code: 'custom', path: ['object'], message: `the object of ${c.action} is always "" (write object: "")` });
    if (!empty && c.object === '') ctx.addIssue({ code: 'custom', path: ['object'], message: `${c.action} needs a non-empty object (a channel or an RPC method)` });
  });

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

/**
 * Reads every case (of the files `only` keeps); problems (one line each, naming file and case)
 * are returned, not thrown. A file that does not parse is one problem: its cases are not run.
 */
export function loadTestCases(dir: string, only: (file: string) => boolean = () => true): LoadedTestCases {
  return runAtOnce(testCaseLoadSteps(dir, only));
}

export interface LoadedTestCases {
  cases: PolicyTestCase[];
  problems: string[];
}

/** loadTestCases in steps (time-slices.ts): a reload reads a large suite of cases in slices. */
export function* testCaseLoadSteps(dir: string, only: (file: string) => boolean = () => true): Steps<LoadedTestCases> {
  const cases: PolicyTestCase[] = [];
  const problems: string[] = [];
  for (const file of testFiles(dir).filter(only)) {
    let doc: unknown;
    try {
      doc = yield* yamlSteps(readFileSync(file, 'utf8'));
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
    for (const [index, item] of items.entries()) {
      yield;
      const one = caseSchema.safeParse(item);
      if (one.success) cases.push({ ...one.data, file, index });
      else {
        for (const issue of one.error.issues) {
          const field = issue.path[0];
          const missing = typeof field === 'string' && issue.path.length === 1 && typeof item === 'object' && item !== null && (item as Record<string, unknown>)[field] === undefined;
          const message = missing ? 'required' : issue.message;
          problems.push(`${file}: cases[${index}]${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${message}`);
        }
      }
    }
  }
  return { cases, problems };
}

export function runTestCases(engine: PolicyEngine, cases: readonly PolicyTestCase[]): TestOutcome[] {
  return runAtOnce(testCaseSteps(engine, cases));
}

/** runTestCases one case per step (time-slices.ts): a reload runs them in slices. */
export function* testCaseSteps(engine: PolicyEngine, cases: readonly PolicyTestCase[]): Steps<TestOutcome[]> {
  const outcomes: TestOutcome[] = [];
  for (const testCase of cases) {
    yield;
    const allowed = engine.decide({ user: testCase.user, roles: testCase.roles, action: testCase.action, object: testCase.object });
    const got = allowed ? 'allow' : 'deny';
    outcomes.push({ testCase, passed: got === testCase.expect, got });
  }
  return outcomes;
}

export function describeFailure(outcome: TestOutcome): string {
  const c = outcome.testCase;
  const roles = c.roles.length ? ` roles=${c.roles.join(',')}` : '';
  return `FAIL ${c.file} cases[${c.index}] "${c.note}": user="${c.user}"${roles} ${c.action} "${c.object}" expected ${c.expect}, got ${outcome.got}`;
}
