/**
 * Allow lines that can never take effect because a deny always applies to the same requests:
 * same action, a deny pattern that covers the allow's, and a deny subject every matching
 * requester has (the same subject, a role the subject inherits, or `authenticated`).
 */
import { ANONYMOUS_ROLE, AUTHENTICATED_ROLE } from './engine.js';
import type { RoleGraph } from './lint-roles.js';
import type { PolicyRule } from './policy-source.js';

const where = (rule: PolicyRule) => `${rule.location.file}:${rule.location.line}`;

/** True when every object `allowPattern` can match is also matched by `denyPattern`. */
export function covers(denyPattern: string, allowPattern: string): boolean {
  if (denyPattern === allowPattern || /^\*+$/.test(denyPattern)) return true;
  // "prefix*" with a plain prefix covers every pattern that starts with that prefix.
  const star = denyPattern.indexOf('*');
  if (star !== denyPattern.length - 1 || denyPattern.includes('{user}')) return false;
  return allowPattern.startsWith(denyPattern.slice(0, -1));
}

/** How the deny's subject reaches everyone the allow's subject names, or undefined when it may not. */
function subjectCovered(denySubject: string, allowSubject: string, graph: RoleGraph): string | undefined {
  if (denySubject === allowSubject) return 'the same subject';
  if (denySubject === AUTHENTICATED_ROLE && allowSubject !== ANONYMOUS_ROLE) return `${AUTHENTICATED_ROLE} (every verified user)`;
  const chain = graph.chain(allowSubject, denySubject);
  if (chain && chain.length > 0) return `${denySubject}, which ${allowSubject} inherits (${chain.map((e) => `g at ${where(e.rule)}`).join(', ')})`;
  return undefined;
}

export function unreachableAllows(rules: readonly PolicyRule[], graph: RoleGraph): Array<{ rule: PolicyRule; message: string }> {
  const found: Array<{ rule: PolicyRule; message: string }> = [];
  const denies = rules.filter((r) => r.ptype === 'p' && r.values[3] === 'deny');
  for (const allow of rules) {
    if (allow.ptype !== 'p' || allow.values[3] !== 'allow') continue;
    const [subject = '', pattern = '', action] = allow.values;
    for (const deny of denies) {
      const [denySubject = '', denyPattern = '', denyAction] = deny.values;
      if (denyAction !== action || !covers(denyPattern, pattern)) continue;
      const how = subjectCovered(denySubject, subject, graph);
      if (!how) continue;
      const message =
        how === 'the same subject'
          ? `this allow never takes effect: ${where(deny)} denies the same subject and action for every object it matches`
          : `this allow never takes effect: ${where(deny)} denies ${how} the same action for every object it matches`;
      found.push({ rule: allow, message });
      break;
    }
  }
  return found;
}
