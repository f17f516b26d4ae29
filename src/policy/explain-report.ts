/**
 * The machine-readable explanation: what `explain --json` prints and the policy page's
 * /api/explain answers, built in one place so the two can never drift apart.
 */
import { unknownAction } from './actions.js';
import type { PolicyEngine, PolicyQuery } from './engine.js';
import { explainInDetail, type SubjectRoute } from './explain-detail.js';
import type { PolicyRule } from './policy-source.js';

export const ruleText = (r: PolicyRule): string => [r.ptype, ...r.values].join(', ');
export const ruleJson = (r: PolicyRule) => ({ file: r.location.file, line: r.location.line, rule: ruleText(r) });
const routeJson = (route: SubjectRoute | undefined) =>
  route && { start: route.start, name: route.name, links: route.links.map((e) => ruleJson(e.rule)) };

/** `--roles a,b` and the page's roles field: comma-separated, blanks around names ignored. */
export const rolesList = (text: string): string[] => (text === '' ? [] : text.split(',').map((r) => r.trim()));

export function explainReport(engine: PolicyEngine, query: PolicyQuery, rolePrefixes?: readonly string[]) {
  const result = explainInDetail(engine, query, rolePrefixes);
  const withRoute = (r: PolicyRule) => ({ ...ruleJson(r), subject_via: routeJson(result.routes.get(r.values[0] ?? '')) });
  return {
    decision: result.allowed ? ('allow' as const) : ('deny' as const),
    policy_version: result.version,
    deciding: result.deciding.map(withRoute),
    matched: result.matched.map(withRoute),
    near_misses: result.nearMisses.map((m) => ({ ...ruleJson(m.rule), why: m.why })),
    warnings: [unknownAction(query.action)].filter((w): w is string => w !== undefined),
  };
}
