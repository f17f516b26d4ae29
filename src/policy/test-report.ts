/**
 * The machine-readable test run: what `test --json [--coverage]` prints and the policy page's
 * /api/tests answers, built in one place so the two can never drift apart.
 */
import type { PolicyEngine } from './engine.js';
import { ruleJson } from './explain-report.js';
import type { TestOutcome } from './test-cases.js';
import type { RuleCoverage } from './test-coverage.js';

export function testReport(engine: PolicyEngine, outcomes: readonly TestOutcome[], problems: readonly string[], coverage?: readonly RuleCoverage[]) {
  const passed = outcomes.filter((o) => o.passed).length;
  const caseJson = (o: TestOutcome) => {
    const c = o.testCase;
    const deciding = engine.explain({ user: c.user, roles: c.roles, action: c.action, object: c.object }).deciding.map(ruleJson);
    return { file: c.file, index: c.index, note: c.note, user: c.user, roles: c.roles, action: c.action, object: c.object, expect: c.expect, got: o.got, passed: o.passed, deciding };
  };
  return {
    policy_version: engine.version,
    passed,
    failed: outcomes.length - passed + problems.length,
    problems,
    cases: outcomes.map(caseJson),
    ...(coverage ? { coverage: coverage.map((c) => ({ ...ruleJson(c.rule), cases: c.cases, allow: c.allow, deny: c.deny })) } : {}),
  };
}
