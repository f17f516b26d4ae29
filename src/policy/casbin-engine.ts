/**
 * The policy engine on node-casbin. node-casbin's factory is untyped and async; this wrapper
 * builds an enforcer once per policy version and answers synchronously (enforceSync).
 */
import { DefaultRoleManager, newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import { implicitRole, type EngineOptions, type Explanation, type PolicyEngine, type PolicyQuery } from './engine.js';
import { PatternCache } from './object-pattern.js';
import { effectMessage, PolicySourceError, type PolicyRule, type PolicySource } from './policy-source.js';
import { roleNames, type RoleNamePredicate } from './role-names.js';

/** Name of the object matcher the default model uses: `objectMatch(r.obj, p.obj, r.sub)`. */
export const OBJECT_MATCH_FUNCTION = 'objectMatch';
const EFFECTS = new Set(['allow', 'deny']);

/**
 * Adds the request's token roles and implicit role to the `g` function for exactly one
 * synchronous enforce call. JavaScript runs enforceSync to completion, so no other request can
 * observe these roles.
 */
class RequestRoleManager extends DefaultRoleManager {
  private subject: string | undefined;
  /** The request's user ID is a role name: it matches nothing itself (role-names.ts). */
  private subjectIsRole = false;
  private extraRoles: readonly string[] = [];
  isRole: RoleNamePredicate = () => false;

  during<T>(query: PolicyQuery, evaluate: () => T): T {
    this.subject = query.user;
    this.subjectIsRole = this.isRole(query.user);
    this.extraRoles = [implicitRole(query.user), ...query.roles];
    try {
      return evaluate();
    } finally {
      this.subject = undefined;
      this.subjectIsRole = false;
      this.extraRoles = [];
    }
  }

  override syncedHasLink(name1: string, name2: string, ...domain: string[]): boolean {
    const isSubject = this.subject !== undefined && name1 === this.subject;
    // A user ID that names a role neither equals that role nor follows its g lines.
    if (!(isSubject && this.subjectIsRole) && super.syncedHasLink(name1, name2, ...domain)) return true;
    if (!isSubject) return false;
    return this.extraRoles.some((role) => role === name2 || super.syncedHasLink(role, name2, ...domain));
  }
}

function sectionTokens(enforcer: Enforcer, section: string, key: string): string[] | undefined {
  const assertion = enforcer.getModel().model.get(section)?.get(key);
  if (!assertion) return undefined;
  // Role definitions ("g = _, _") have no named tokens: one per underscore.
  if (section === 'g') return assertion.value.split(',').map((_, i) => `${key}_arg${i}`);
  return assertion.tokens;
}

function validateRules(enforcer: Enforcer, source: PolicySource): void {
  for (const rule of source.rules) {
    const tokens = sectionTokens(enforcer, rule.ptype.startsWith('g') ? 'g' : 'p', rule.ptype);
    if (!tokens) {
      throw new PolicySourceError(rule.location, `policy type "${rule.ptype}" is not defined in the model`);
    }
    if (rule.values.length !== tokens.length) {
      throw new PolicySourceError(
        rule.location,
        `"${rule.ptype}" takes ${tokens.length} values (${tokens.map((t) => t.split('_')[1]).join(', ')}), got ${rule.values.length}`,
      );
    }
    const eftIndex = tokens.indexOf(`${rule.ptype}_eft`);
    const effect = eftIndex >= 0 ? rule.values[eftIndex] : undefined;
    if (effect !== undefined && !EFFECTS.has(effect)) {
      // Casbin would silently ignore a misspelt effect; refuse it instead.
      throw new PolicySourceError(rule.location, effectMessage(effect));
    }
    if (rule.values.some((v) => v === '')) {
      throw new PolicySourceError(rule.location, 'empty value (use a role such as "anonymous" instead of an empty subject)');
    }
  }
}

export class CasbinEngine implements PolicyEngine {
  readonly version: string;
  private readonly patterns = new PatternCache();

  private constructor(
    readonly source: PolicySource,
    private readonly enforcer: Enforcer,
    private readonly roles: RequestRoleManager,
    readonly evaluator: string,
  ) {
    this.version = source.version;
  }

  /** @param why shown by `check` when a model is not indexable and so runs here. */
  static async build(source: PolicySource, why?: string, options: EngineOptions = {}): Promise<CasbinEngine> {
    let model;
    try {
      model = newModelFromString(source.modelText);
    } catch (err) {
      throw new PolicySourceError({ file: source.modelFile }, `invalid model: ${(err as Error).message}`);
    }
    const enforcer = await newEnforcer(model);
    const roles = new RequestRoleManager(10);
    roles.isRole = roleNames(source.rules, options.rolePrefixes);
    enforcer.setRoleManager(roles);
    validateRules(enforcer, source);
    const byType = new Map<string, string[][]>();
    for (const rule of source.rules) {
      const list = byType.get(rule.ptype) ?? [];
      list.push([...rule.values]);
      byType.set(rule.ptype, list);
    }
    for (const [ptype, rules] of byType) {
      enforcer.getModel().addPolicies(ptype.startsWith('g') ? 'g' : 'p', ptype, rules);
    }
    await enforcer.buildRoleLinks();
    const engine = new CasbinEngine(source, enforcer, roles, why ? `casbin (${why})` : 'casbin');
    await enforcer.addFunction(OBJECT_MATCH_FUNCTION, (object: string, pattern: string, user: string) =>
      engine.patterns.get(pattern).matches(object, user),
    );
    // Evaluate once so a matcher that references unknown functions or fields fails now, not per request.
    try {
      engine.decide({ user: 'policy-self-check', roles: [], action: 'connect', object: '' });
    } catch (err) {
      throw new PolicySourceError({ file: source.modelFile }, `matcher cannot be evaluated: ${(err as Error).message}`);
    }
    return engine;
  }

  decide(query: PolicyQuery): boolean {
    return this.roles.during(query, () => this.enforcer.enforceSync(query.user, query.object, query.action));
  }

  /**
   * For the default model's shape (p = sub, obj, act, eft) every rule is tested on its own so
   * that all matching lines are reported; other models fall back to casbin's own explanation.
   */
  explain(query: PolicyQuery): Explanation {
    const allowed = this.decide(query);
    const pRules = this.source.rules.filter((r) => r.ptype === 'p');
    const tokens = sectionTokens(this.enforcer, 'p', 'p') ?? [];
    const defaultShape = tokens.join(',') === 'p_sub,p_obj,p_act,p_eft';
    if (!defaultShape) {
      const [, hit] = this.roles.during(query, () => this.enforcer.enforceExSync(query.user, query.object, query.action));
      const deciding = pRules.filter((r) => r.values.join('\u0000') === hit.join('\u0000'));
      return { allowed, deciding, matched: deciding, version: this.version };
    }
    const matched = pRules.filter((rule) => this.ruleMatches(rule, query));
    const denies = matched.filter((r) => r.values[3] === 'deny');
    const deciding = denies.length > 0 ? denies : allowed ? matched.filter((r) => r.values[3] === 'allow') : [];
    return { allowed, deciding, matched, version: this.version };
  }

  private ruleMatches(rule: PolicyRule, query: PolicyQuery): boolean {
    const [sub = '', obj = '', act = ''] = rule.values;
    if (act !== query.action) return false;
    if (!this.patterns.get(obj).matches(query.object, query.user)) return false;
    return this.roles.during(query, () => this.roles.syncedHasLink(query.user, sub));
  }
}
