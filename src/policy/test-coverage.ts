/**
 * Which policy lines the test cases exercise. A `p` line is exercised by a case when it matches
 * the case's request (whatever decided); for each line we count the decisions of those cases.
 * Two findings matter to a reviewer: lines no case exercises (nothing would notice if they
 * broke), and lines seen in one kind of decision only — most telling for an allow line that
 * matched only denied cases: no test shows it granting anything.
 */
import { describeRule } from './decision-log.js';
import type { PolicyEngine } from './engine.js';
import type { PolicyRule } from './policy-source.js';
import type { PolicyTestCase } from './test-cases.js';

export interface RuleCoverage {
  readonly rule: PolicyRule;
  /** Cases whose request this line matched. */
  readonly cases: number;
  /** Of those, how many the policy allowed and denied. */
  readonly allow: number;
  readonly deny: number;
}

export function ruleCoverage(engine: PolicyEngine, cases: readonly PolicyTestCase[]): RuleCoverage[] {
  const counts = new Map<PolicyRule, { cases: number; allow: number; deny: number }>();
  for (const rule of engine.source.rules) if (rule.ptype === 'p') counts.set(rule, { cases: 0, allow: 0, deny: 0 });
  for (const c of cases) {
    const explanation = engine.explain({ user: c.user, roles: c.roles, action: c.action, object: c.object });
    for (const rule of explanation.matched) {
      const count = counts.get(rule);
      if (!count) continue;
      count.cases++;
      count[explanation.allowed ? 'allow' : 'deny']++;
    }
  }
  return [...counts].map(([rule, count]) => ({ rule, ...count }));
}

/** The text report: a summary line, then one line per unexercised or one-sided line. */
export function describeCoverage(coverage: readonly RuleCoverage[], caseCount: number): string[] {
  const exercised = coverage.filter((c) => c.cases > 0).length;
  const lines = [`coverage: ${exercised} of ${coverage.length} rule lines exercised by ${caseCount} cases`];
  for (const c of coverage) {
    const deny = c.rule.values[3] === 'deny';
    if (c.cases === 0) lines.push(`not exercised: ${describeRule(c.rule)}`);
    else if (!deny && c.allow === 0) lines.push(`only seen deciding deny: ${describeRule(c.rule)} (matched ${c.cases} case(s), each denied by another line: no case shows it allowing)`);
    else if (!deny && c.deny === 0) lines.push(`only seen deciding allow: ${describeRule(c.rule)} (matched ${c.cases} case(s))`);
  }
  return lines;
}
