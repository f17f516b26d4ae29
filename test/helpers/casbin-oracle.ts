/**
 * An oracle for the policy engines that shares no code with src/policy: plain node-casbin with
 * its own model, its own object matcher (a regular expression built from the pattern) and its
 * own reading of the role-name rule. The semantics it encodes are the README's "Policies":
 *   - `*` is any run of characters, none included; every other character is literal;
 *   - `{user}` is the requesting user's ID, literally; a pattern with `{user}` matches nothing
 *     for an anonymous request (user "");
 *   - the request's token roles and its implicit role (`authenticated`, or `anonymous` for "")
 *     are real `g` lines, added for one decision and removed after it;
 *   - a user ID that is a role name (an implicit role, the right side of a `g` line, or a name
 *     with a role prefix) gets nothing through rules naming it, nor through its `g` lines;
 *   - deny overrides allow; nothing matching denies.
 *
 * Each decision runs on a stand-in subject (REQUEST) linked by `g` lines to the user ID (when
 * it may act as itself), the implicit role and every token role. The stand-in adds one hop,
 * so the role manager follows 11 links from it: 10 from the user and from each role, as
 * casbin's default role manager does from a subject.
 */
import { DefaultRoleManager, newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import type { PolicyRule } from '../../src/policy/policy-source.js';

const MODEL = `
[request_definition]
r = sub, obj, act, uid

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.act == p.act && g(r.sub, p.sub) && oracleObjectMatch(r.obj, p.obj, r.uid)
`;

/** Never a name in a policy file (a CSV line cannot hold a NUL). */
const REQUEST = '\u0000request';
const HOPS_FROM_SUBJECT = 10;

export interface OracleQuery {
  readonly user: string;
  readonly roles: readonly string[];
  readonly action: string;
  readonly object: string;
}

export interface OracleAnswer {
  readonly allowed: boolean;
  /** Every p rule that applies to the request, in file order. */
  readonly matched: readonly PolicyRule[];
  /** The applying deny rules, else (when allowed) the applying allow rules, else none. */
  readonly deciding: readonly PolicyRule[];
}

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => `\\${c}`);

/** The pattern as an anchored RegExp for this user, or undefined when it can match nothing. */
export function oraclePattern(pattern: string, user: string): RegExp | undefined {
  const pieces = pattern.split('{user}');
  if (pieces.length > 1 && user === '') return undefined;
  const body = pieces.map((piece) => piece.split('*').map(escapeRegExp).join('[\\s\\S]*')).join(escapeRegExp(user));
  return new RegExp(`^${body}$`);
}

export function oracleMatches(object: string, pattern: string, user: string): boolean {
  return oraclePattern(pattern, user)?.test(object) ?? false;
}

export class CasbinOracle {
  private readonly regexps = new Map<string, RegExp | undefined>();

  private constructor(
    private readonly enforcer: Enforcer,
    private readonly roleManager: DefaultRoleManager,
    private readonly pRules: readonly PolicyRule[],
    private readonly roleNames: ReadonlySet<string>,
    private readonly rolePrefixes: readonly string[],
  ) {}

  static async build(rules: readonly PolicyRule[], rolePrefixes: readonly string[] = ['role:']): Promise<CasbinOracle> {
    const enforcer = await newEnforcer(newModelFromString(MODEL));
    const roleManager = new DefaultRoleManager(HOPS_FROM_SUBJECT + 1);
    enforcer.setRoleManager(roleManager);
    const p = rules.filter((r) => r.ptype === 'p');
    const g = rules.filter((r) => r.ptype === 'g');
    const unique = (list: readonly PolicyRule[]) => [...new Map(list.map((r) => [r.values.join('\u0000'), [...r.values]])).values()];
    if (p.length > 0) await enforcer.addPolicies(unique(p));
    if (g.length > 0) await enforcer.addGroupingPolicies(unique(g));
    const roleNames = new Set(['anonymous', 'authenticated', ...g.map((r) => r.values[1] as string)]);
    const oracle = new CasbinOracle(enforcer, roleManager, p, roleNames, rolePrefixes.filter((x) => x !== ''));
    await enforcer.addFunction('oracleObjectMatch', (object: string, pattern: string, user: string) => oracle.objectMatch(object, pattern, user));
    return oracle;
  }

  private objectMatch(object: string, pattern: string, user: string): boolean {
    const key = `${pattern}\u0000${user}`;
    if (!this.regexps.has(key)) this.regexps.set(key, oraclePattern(pattern, user));
    return this.regexps.get(key)?.test(object) ?? false;
  }

  private isRoleName(name: string): boolean {
    return this.roleNames.has(name) || this.rolePrefixes.some((prefix) => name.startsWith(prefix));
  }

  /** The g lines that stand for this request. */
  private requestLinks(query: OracleQuery): string[][] {
    const targets = new Set<string>(query.roles);
    targets.add(query.user === '' ? 'anonymous' : 'authenticated');
    if (query.user !== '' && !this.isRoleName(query.user)) targets.add(query.user);
    return [...targets].map((target) => [REQUEST, target]);
  }

  private async during<T>(query: OracleQuery, evaluate: () => T): Promise<T> {
    const links = this.requestLinks(query);
    await this.enforcer.addGroupingPolicies(links);
    try {
      return evaluate();
    } finally {
      await this.enforcer.removeGroupingPolicies(links);
    }
  }

  async decide(query: OracleQuery): Promise<boolean> {
    return this.during(query, () => this.enforcer.enforceSync(REQUEST, query.object, query.action, query.user));
  }

  /** decide, plus the rules that applied: each p rule tested alone with the same links. */
  async explain(query: OracleQuery): Promise<OracleAnswer> {
    return this.during(query, () => {
      const allowed = this.enforcer.enforceSync(REQUEST, query.object, query.action, query.user);
      const matched = this.pRules.filter((rule) => {
        const [sub = '', obj = '', act = ''] = rule.values;
        return act === query.action && this.roleManager.syncedHasLink(REQUEST, sub) && this.objectMatch(query.object, obj, query.user);
      });
      const denies = matched.filter((r) => r.values[3] === 'deny');
      return { allowed, matched, deciding: denies.length > 0 ? denies : allowed ? matched : [] };
    });
  }
}
