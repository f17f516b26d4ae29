/**
 * Which policy names are roles, so that a user ID never acts as one: a token whose `sub` is
 * `role:admin` (or `authenticated`, or the name of any group) must get none of that role's
 * rights. Users and roles share one namespace in Casbin's `g(r.sub, p.sub)`, where the request
 * subject matches a rule naming it directly or through `g` links; we keep that for user IDs that
 * are not role names (`p, 666, *, publish, deny` and `g, carol, role:member` still work) and
 * give a user whose ID is a role name only the implicit role and the token's roles.
 *
 * A name is a role when it is
 *   - an implicit role: `authenticated`, `anonymous`;
 *   - the right side of a `g` line (something is a member of it);
 *   - starts with one of `policy.role_prefixes` (default `role:`): roles that only tokens
 *     carry appear in `p` lines alone, where nothing else tells them from user IDs.
 */
import { ANONYMOUS_ROLE, AUTHENTICATED_ROLE } from './engine.js';
import type { PolicyRule } from './policy-source.js';
import { runAtOnce, stepDue, type Steps } from './time-slices.js';

export const DEFAULT_ROLE_PREFIXES: readonly string[] = ['role:'];

export type RoleNamePredicate = (name: string) => boolean;

export function roleNames(rules: readonly PolicyRule[], prefixes: readonly string[] = DEFAULT_ROLE_PREFIXES): RoleNamePredicate {
  return runAtOnce(roleNameSteps(rules, prefixes));
}

/** roleNames a few rules per step (time-slices.ts: a step per rule allocated more than the work). */
export function* roleNameSteps(rules: readonly PolicyRule[], prefixes: readonly string[] = DEFAULT_ROLE_PREFIXES): Steps<RoleNamePredicate> {
  const names = new RoleNameCollector();
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    names.add(rules[index] as PolicyRule);
  }
  return names.predicate(prefixes);
}

/** The role names of rules seen one at a time, for a loop that already walks them (the index build). */
export class RoleNameCollector {
  private readonly named = new Set<string>([ANONYMOUS_ROLE, AUTHENTICATED_ROLE]);

  add(rule: PolicyRule): void {
    if (rule.ptype === 'g' && rule.values[1] !== undefined) this.named.add(rule.values[1]);
  }

  predicate(prefixes: readonly string[] = DEFAULT_ROLE_PREFIXES): RoleNamePredicate {
    const { named } = this;
    const usable = prefixes.filter((p) => p !== '');
    return (name) => named.has(name) || usable.some((prefix) => name.startsWith(prefix));
  }
}
