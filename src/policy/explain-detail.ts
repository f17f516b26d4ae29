/**
 * `explain` beyond the deciding line: how the user came to hold each matching line's subject
 * (their own ID, the implicit role, a token role, then g lines with file:line), and the nearest
 * lines that did not match, with why — same action and a similar object, the right object and
 * action but a subject the user lacks, or the right object and subject for another action.
 */
import { EMPTY_OBJECT_ACTIONS, nearestAction } from './actions.js';
import { implicitRole, type Explanation, type PolicyEngine, type PolicyQuery } from './engine.js';
import { RoleGraph, type RoleEdge } from './lint-roles.js';
import { compileObjectPattern, USER_PLACEHOLDER } from './object-pattern.js';
import type { PolicyRule } from './policy-source.js';
import { roleNames } from './role-names.js';

export interface SubjectRoute {
  /** Where the chain starts: the user's own ID, the implicit role, or a role in the token. */
  readonly start: 'user' | 'implicit' | 'token';
  readonly name: string;
  /** The g lines from `name` to the rule's subject (empty when it is the subject). */
  readonly links: readonly RoleEdge[];
}

export interface NearMiss {
  readonly rule: PolicyRule;
  readonly why: string;
}

export interface DetailedExplanation extends Explanation {
  /** For each subject of a matched line: how the user holds it. */
  readonly routes: ReadonlyMap<string, SubjectRoute>;
  readonly nearMisses: readonly NearMiss[];
}

const MAX_NEAR_MISSES = 5;
/** An object pattern is "similar" when its literal start shares this many characters with the object. */
const SIMILAR_PREFIX = 3;

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

export function describeRoute(route: SubjectRoute): string {
  const start = route.start === 'user' ? `the user's own ID "${route.name}"` : route.start === 'implicit' ? `the implicit role ${route.name}` : `the token role ${route.name}`;
  const links = route.links.map((e) => `g, ${e.member}, ${e.role} (${e.rule.location.file}:${e.rule.location.line})`);
  return [start, ...links].join(' → ');
}

function objectWhy(pattern: string, query: PolicyQuery): string {
  if (pattern.includes(USER_PLACEHOLDER) && query.user === '') return `{user} never matches an anonymous request`;
  if (pattern.includes(USER_PLACEHOLDER)) return `"${query.object}" does not match "${pattern}" ({user} is "${query.user}")`;
  return `"${query.object}" does not match "${pattern}"`;
}

export function explainInDetail(engine: PolicyEngine, query: PolicyQuery, rolePrefixes?: readonly string[]): DetailedExplanation {
  const base = engine.explain(query);
  const rules = engine.source.rules;
  const graph = RoleGraph.of(rules);
  const isRole = roleNames(rules, rolePrefixes);
  const starts: Array<Pick<SubjectRoute, 'start' | 'name'>> = [
    ...(isRole(query.user) ? [] : [{ start: 'user' as const, name: query.user }]),
    { start: 'implicit', name: implicitRole(query.user) },
    ...query.roles.map((name) => ({ start: 'token' as const, name })),
  ];
  const routeCache = new Map<string, SubjectRoute | undefined>();
  const route = (subject: string): SubjectRoute | undefined => {
    if (routeCache.has(subject)) return routeCache.get(subject);
    let found: SubjectRoute | undefined;
    for (const start of starts) {
      const links = graph.chain(start.name, subject);
      if (links && (!found || links.length < found.links.length)) found = { ...start, links };
    }
    routeCache.set(subject, found);
    return found;
  };
  const routes = new Map<string, SubjectRoute>();
  for (const rule of base.matched) {
    const subject = rule.values[0] ?? '';
    const r = route(subject);
    if (r) routes.set(subject, r);
  }

  const matched = new Set(base.matched);
  const suggested = nearestAction(query.action);
  const scored: Array<NearMiss & { rank: number }> = [];
  for (const rule of rules) {
    if (rule.ptype !== 'p' || matched.has(rule) || rule.values.length !== 4) continue;
    const [subject = '', pattern = '', action = ''] = rule.values;
    const held = route(subject) !== undefined;
    const objectMatches = compileObjectPattern(pattern).matches(query.object, query.user);
    const sameAction = action === query.action;
    if (sameAction && held && !objectMatches) {
      const shared = commonPrefix(compileObjectPattern(pattern).literalPrefix, query.object);
      if (shared >= SIMILAR_PREFIX) scored.push({ rule, why: objectWhy(pattern, query), rank: 1000 - shared });
    } else if (sameAction && objectMatches && !held) {
      if (subject === query.user && isRole(subject)) scored.push({ rule, why: `the user's ID "${subject}" is a role name, and a user ID never acts as a role`, rank: 2000 });
      else if (isRole(subject)) scored.push({ rule, why: `the user does not hold ${subject}: not in the token's roles, no g line gives it`, rank: 2000 });
      else scored.push({ rule, why: `the line is for user "${subject}"`, rank: 4000 });
    } else if (!sameAction && objectMatches && held && EMPTY_OBJECT_ACTIONS.has(action) === EMPTY_OBJECT_ACTIONS.has(query.action)) {
      // A misspelt action's likely meaning first.
      scored.push({ rule, why: `it is for ${action}, not ${query.action}`, rank: action === suggested ? 500 : 3000 });
    }
  }
  const order = new Map(rules.map((r, i) => [r, i]));
  scored.sort((a, b) => a.rank - b.rank || (order.get(a.rule) ?? 0) - (order.get(b.rule) ?? 0));
  return { ...base, routes, nearMisses: scored.slice(0, MAX_NEAR_MISSES).map(({ rule, why }) => ({ rule, why })) };
}
