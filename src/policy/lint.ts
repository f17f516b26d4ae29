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
import { unreachableAllows } from './lint-overrides.js';
import { pLineProblems } from './lint-rules.js';
import { modelShape } from './model-shape.js';
import type { PolicyRule, PolicySource } from './policy-source.js';
import { DEFAULT_ROLE_PREFIXES, roleNames } from './role-names.js';

export interface LintOptions {
  /** policy.role_prefixes (default `role:`). */
  readonly rolePrefixes?: readonly string[];
  /** False for a model of another shape: only duplicates are reported. */
  readonly defaultModel?: boolean;
}

interface Finding {
  readonly rule: PolicyRule;
  readonly message: string;
}

const where = (rule: PolicyRule) => `${rule.location.file}:${rule.location.line}`;

function duplicates(rules: readonly PolicyRule[]): Finding[] {
  const found: Finding[] = [];
  const seen = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const key = [rule.ptype, ...rule.values].join('\u0000');
    const first = seen.get(key);
    if (first) found.push({ rule, message: `duplicate of ${where(first)}` });
    else seen.set(key, rule);
  }
  return found;
}

function roleFindings(rules: readonly PolicyRule[], graph: RoleGraph): Finding[] {
  const found: Finding[] = [];
  for (const cycle of graph.cycles()) {
    const names = [...cycle.map((e) => e.member), cycle[0]?.member ?? ''].join(' → ');
    const lines = cycle.length > 1 ? ` (with ${cycle.slice(1).map((e) => where(e.rule)).join(', ')})` : '';
    found.push({ rule: cycle[0]!.rule, message: `role cycle: ${names}${lines}` });
  }
  const subjects = new Set(rules.filter((r) => r.ptype === 'p').map((r) => r.values[0]));
  const reported = new Set<string>();
  for (const edge of graph.allEdges()) {
    if (reported.has(edge.role)) continue;
    reported.add(edge.role);
    if ([...graph.closure(edge.role)].some((name) => subjects.has(name))) continue;
    found.push({ rule: edge.rule, message: `role "${edge.role}" is granted here but gives nothing: no p line names it or a role it inherits` });
  }
  return found;
}

/** Every lint problem of these rules, in file order, one line each. */
export function lintRules(rules: readonly PolicyRule[], options: LintOptions = {}): string[] {
  const prefixes = options.rolePrefixes ?? DEFAULT_ROLE_PREFIXES;
  const findings = duplicates(rules);
  if (options.defaultModel !== false) {
    const isRole = roleNames(rules, prefixes);
    for (const rule of rules) {
      if (rule.ptype === 'p' && rule.values.length === 4) for (const message of pLineProblems(rule.values, isRole, prefixes)) findings.push({ rule, message });
    }
    const graph = new RoleGraph(rules);
    findings.push(...roleFindings(rules, graph), ...unreachableAllows(rules, graph));
  }
  const position = new Map(rules.map((rule, index) => [rule, index]));
  return findings
    .map((f, order) => ({ ...f, order }))
    .sort((a, b) => (position.get(a.rule) ?? 0) - (position.get(b.rule) ?? 0) || a.order - b.order)
    .map((f) => `${where(f.rule)}: ${f.message}`);
}

/** lintRules for a loaded policy: the model decides how much lint understands. */
export function lintPolicy(source: PolicySource, rolePrefixes?: readonly string[]): string[] {
  return lintRules(source.rules, { rolePrefixes, defaultModel: modelShape(source.modelText).indexable });
}
