/**
 * Warnings for rules that are legal but almost certainly not what the author meant: exact
 * duplicates, and allow lines that a deny line for the same subject and action always overrides
 * (so they can never take effect). `check` prints them; they do not fail it.
 */
import type { PolicyRule } from './policy-source.js';

const where = (rule: PolicyRule) => `${rule.location.file}:${rule.location.line}`;

/** True when every object `allowPattern` can match is also matched by `denyPattern`. */
function covers(denyPattern: string, allowPattern: string): boolean {
  if (denyPattern === allowPattern || denyPattern === '*') return true;
  // "prefix*" with a plain prefix covers every pattern that starts with that prefix.
  const star = denyPattern.indexOf('*');
  if (star !== denyPattern.length - 1 || denyPattern.includes('{user}')) return false;
  return allowPattern.startsWith(denyPattern.slice(0, -1));
}

export function lintRules(rules: readonly PolicyRule[]): string[] {
  const warnings: string[] = [];
  const seen = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const key = [rule.ptype, ...rule.values].join('\u0000');
    const first = seen.get(key);
    if (first) warnings.push(`${where(rule)}: duplicate of ${where(first)}`);
    else seen.set(key, rule);
  }
  const denies = rules.filter((r) => r.ptype === 'p' && r.values[3] === 'deny');
  for (const allow of rules.filter((r) => r.ptype === 'p' && r.values[3] === 'allow')) {
    const [subject, pattern = '', action] = allow.values;
    const overriding = denies.find((d) => d.values[0] === subject && d.values[2] === action && covers(d.values[1] ?? '', pattern));
    if (overriding) warnings.push(`${where(allow)}: this allow never takes effect: ${where(overriding)} denies the same subject and action for every object it matches`);
  }
  return warnings;
}
