/**
 * Lint: lines that are legal but almost certainly not what the author meant. Every problem is
 * one line, `file:line: what is wrong`, in file order. `check` prints them (and fails on them
 * with --strict); every reload logs them (and refuses the policy with `policy.strict: true`).
 *
 * With the default model (model-shape.ts) lint knows what a p line means and checks it all:
 * unknown actions, lines that can never match, subjects that look like roles but are user IDs,
 * role cycles, roles granted but never used, allows a deny always overrides, duplicates. With a
 * model of another shape it only reports duplicates.
 */
import { RoleGraph } from './lint-roles.js';
import { unreachableAllowSteps, type Finding } from './lint-overrides.js';
import { pLineChecker } from './lint-rules.js';
import { modelShape } from './model-shape.js';
import type { PolicyRule, PolicySource } from './policy-source.js';
import { DEFAULT_ROLE_PREFIXES, roleNameSteps } from './role-names.js';
import { runAtOnce, runInSlices, stepDue, type Steps } from './time-slices.js';

export interface LintOptions {
  /** policy.role_prefixes (default `role:`). */
  readonly rolePrefixes?: readonly string[];
  /** False for a model of another shape: only duplicates are reported. */
  readonly defaultModel?: boolean;
}

const where = (rule: PolicyRule) => `${rule.location.file}:${rule.location.line}`;

/*
 * Each pass below is a generator that yields every few rules (or once per g line): time-slices.ts runs it
 * at once for `check` and the policy page, and in slices on a reload, with the same result.
 */

function* duplicates(rules: readonly PolicyRule[], found: Finding[]): Steps<void> {
  const seen = new Map<string, PolicyRule>();
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    const rule = rules[index]!;
    const key = `${rule.ptype}\u0000${rule.values.join('\u0000')}`;
    const first = seen.get(key);
    if (first) found.push({ rule, message: `duplicate of ${where(first)}` });
    else seen.set(key, rule);
  }
}

function* pLineFindings(rules: readonly PolicyRule[], prefixes: readonly string[], found: Finding[]): Steps<void> {
  const problemsOf = pLineChecker(yield* roleNameSteps(rules, prefixes), prefixes);
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    const rule = rules[index]!;
    if (rule.ptype === 'p' && rule.values.length === 4) for (const message of problemsOf(rule.values)) found.push({ rule, message });
  }
}

function* roleFindings(rules: readonly PolicyRule[], graph: RoleGraph, found: Finding[]): Steps<void> {
  for (const cycle of yield* graph.cycleSteps()) {
    const names = [...cycle.map((e) => e.member), cycle[0]?.member ?? ''].join(' → ');
    const lines = cycle.length > 1 ? ` (with ${cycle.slice(1).map((e) => where(e.rule)).join(', ')})` : '';
    found.push({ rule: cycle[0]!.rule, message: `role cycle: ${names}${lines}` });
  }
  const subjects = new Set<string | undefined>();
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    const rule = rules[index]!;
    if (rule.ptype === 'p') subjects.add(rule.values[0]);
  }
  const reported = new Set<string>();
  for (const edge of graph.allEdges()) {
    yield;
    if (reported.has(edge.role)) continue;
    reported.add(edge.role);
    if ([...graph.closure(edge.role)].some((name) => subjects.has(name))) continue;
    found.push({ rule: edge.rule, message: `role "${edge.role}" is granted here but gives nothing: no p line names it or a role it inherits` });
  }
}

/**
 * Every finding as `file:line: message`, in file order; findings of one line in the order they
 * were found. Findings are put in one list per rule rather than sorted: a large policy has tens
 * of thousands of them, and one sort of those would be a long pause of its own.
 */
function* inFileOrder(rules: readonly PolicyRule[], findings: readonly Finding[]): Steps<string[]> {
  // Keyed by the rules that have findings only: a map of every rule's position cost 100k entries.
  const byRule = new Map<PolicyRule, Finding[]>();
  for (let index = 0; index < findings.length; index++) {
    if (stepDue(index)) yield;
    const finding = findings[index]!;
    const list = byRule.get(finding.rule);
    if (list) list.push(finding);
    else byRule.set(finding.rule, [finding]);
  }
  const lines: string[] = [];
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    for (const finding of byRule.get(rules[index]!) ?? NO_FINDINGS) lines.push(`${where(finding.rule)}: ${finding.message}`);
  }
  return lines;
}

const NO_FINDINGS: readonly Finding[] = [];

function* lintSteps(rules: readonly PolicyRule[], options: LintOptions): Steps<string[]> {
  const prefixes = options.rolePrefixes ?? DEFAULT_ROLE_PREFIXES;
  const findings: Finding[] = [];
  yield* duplicates(rules, findings);
  if (options.defaultModel !== false) {
    yield* pLineFindings(rules, prefixes, findings);
    const graph = yield* RoleGraph.steps(rules);
    yield* roleFindings(rules, graph, findings);
    for (const finding of yield* unreachableAllowSteps(rules, graph)) findings.push(finding);
  }
  return yield* inFileOrder(rules, findings);
}

/** Every lint problem of these rules, in file order, one line each. */
export function lintRules(rules: readonly PolicyRule[], options: LintOptions = {}): string[] {
  return runAtOnce(lintSteps(rules, options));
}

/** lintRules for a loaded policy: the model decides how much lint understands. */
export function lintPolicy(source: PolicySource, rolePrefixes?: readonly string[]): string[] {
  return lintRules(source.rules, lintOptions(source, rolePrefixes));
}

/** lintPolicy in time slices (time-slices.ts), for reloads: the same lines, without stalling requests. */
export function lintPolicyInSlices(source: PolicySource, rolePrefixes?: readonly string[]): Promise<string[]> {
  return runInSlices(lintSteps(source.rules, lintOptions(source, rolePrefixes)));
}

const lintOptions = (source: PolicySource, rolePrefixes?: readonly string[]): LintOptions => ({ rolePrefixes, defaultModel: modelShape(source.modelText).indexable });
