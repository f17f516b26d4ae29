/**
 * Allow lines that can never take effect because a deny always applies to the same requests:
 * same action, a deny pattern that covers the allow's, and a deny subject every matching
 * requester has (the same subject, a role the subject inherits, or `authenticated`).
 */
import { ANONYMOUS_ROLE, AUTHENTICATED_ROLE } from './engine.js';
import type { RoleGraph } from './lint-roles.js';
import type { PolicyRule } from './policy-source.js';
import { runAtOnce, stepDue, type Steps } from './time-slices.js';

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

/**
 * The deny lines of one (action, subject), indexed by what `covers` needs, so each allow looks up
 * its few candidates instead of scanning every deny (a 100k-line policy has ~50k of each: the
 * pairwise scan took minutes and ran on every reload).
 */
interface DenyBucket {
  readonly exact: Map<string, number[]>;
  readonly prefixes: Map<string, number[]>;
  /** The lengths of the keys of `prefixes`: only those are looked up. */
  readonly prefixLengths: Set<number>;
  readonly allStars: number[];
}

/** action → deny subject → bucket (two maps, so a lookup builds no key string). */
type DenyBuckets = Map<string, Map<string, DenyBucket>>;

/** A few rules per step (time-slices.ts). */
function* indexDenies(rules: readonly PolicyRule[]): Steps<DenyBuckets> {
  const buckets: DenyBuckets = new Map();
  const push = (map: Map<string, number[]>, key: string, index: number) => {
    const list = map.get(key);
    if (list) list.push(index);
    else map.set(key, [index]);
  };
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    const rule = rules[index]!;
    if (rule.ptype !== 'p' || rule.values[3] !== 'deny') continue;
    const [subject = '', pattern = '', action = ''] = rule.values;
    let bySubject = buckets.get(action);
    if (!bySubject) buckets.set(action, (bySubject = new Map()));
    let bucket = bySubject.get(subject);
    if (!bucket) bySubject.set(subject, (bucket = { exact: new Map(), prefixes: new Map(), prefixLengths: new Set(), allStars: [] }));
    if (/^\*+$/.test(pattern)) bucket.allStars.push(index);
    else {
      push(bucket.exact, pattern, index);
      if (pattern.indexOf('*') === pattern.length - 1 && !pattern.includes('{user}')) {
        push(bucket.prefixes, pattern.slice(0, -1), index);
        bucket.prefixLengths.add(pattern.length - 1);
      }
    }
  }
  return buckets;
}

/**
 * The index of the first deny (in file order, below `before`) of `list` whose pattern covers
 * `pattern`, else `before`. Each list holds its indices in ascending order.
 */
function firstCovering(list: readonly number[] | undefined, rules: readonly PolicyRule[], pattern: string, before: number): number {
  if (!list) return before;
  for (const index of list) {
    if (index >= before) break;
    if (covers(rules[index]!.values[1] ?? '', pattern)) return index;
  }
  return before;
}

/** The first deny of `bucket` (below `before`) whose pattern covers `pattern`, else `before`. */
function firstCoveringDeny(bucket: DenyBucket, rules: readonly PolicyRule[], pattern: string, before: number): number {
  let first = firstCovering(bucket.allStars, rules, pattern, before);
  first = firstCovering(bucket.exact.get(pattern), rules, pattern, first);
  for (const length of bucket.prefixLengths) {
    if (length <= pattern.length) first = firstCovering(bucket.prefixes.get(pattern.slice(0, length)), rules, pattern, first);
  }
  return first;
}

export interface Finding {
  readonly rule: PolicyRule;
  readonly message: string;
}

export function unreachableAllows(rules: readonly PolicyRule[], graph: RoleGraph): Finding[] {
  return runAtOnce(unreachableAllowSteps(rules, graph));
}

/** unreachableAllows a few rules per step (time-slices.ts). */
export function* unreachableAllowSteps(rules: readonly PolicyRule[], graph: RoleGraph): Steps<Finding[]> {
  const found: Finding[] = [];
  const buckets = yield* indexDenies(rules);
  if (buckets.size === 0) return found;
  const reachable = new Map<string, string[]>();
  const denySubjectsFor = (subject: string): string[] => {
    let names = reachable.get(subject);
    if (!names) {
      const set = graph.closure(subject);
      if (subject !== ANONYMOUS_ROLE) set.add(AUTHENTICATED_ROLE);
      reachable.set(subject, (names = [...set]));
    }
    return names;
  };
  for (let index = 0; index < rules.length; index++) {
    if (stepDue(index)) yield;
    const allow = rules[index]!;
    if (allow.ptype !== 'p' || allow.values[3] !== 'allow') continue;
    const subject = allow.values[0] ?? '';
    const pattern = allow.values[1] ?? '';
    const bySubject = buckets.get(allow.values[2] as string);
    if (!bySubject) continue;
    // The deny that decides the message is the first in file order, as a plain scan would find.
    // How a deny's subject reaches the allow's depends on the two subjects only: it is asked once
    // per deny subject, and only when one of its denies covers the pattern.
    let first = rules.length;
    let how: string | undefined;
    for (const denySubject of denySubjectsFor(subject)) {
      const bucket = bySubject.get(denySubject);
      if (!bucket) continue;
      const candidate = firstCoveringDeny(bucket, rules, pattern, first);
      if (candidate === first) continue;
      const reaches = subjectCovered(denySubject, subject, graph);
      if (reaches === undefined) continue;
      first = candidate;
      how = reaches;
    }
    if (how === undefined) continue;
    const deny = where(rules[first]!);
    const message =
      how === 'the same subject'
        ? `this allow never takes effect: ${deny} denies the same subject and action for every object it matches`
        : `this allow never takes effect: ${deny} denies ${how} the same action for every object it matches`;
    found.push({ rule: allow, message });
  }
  return found;
}
