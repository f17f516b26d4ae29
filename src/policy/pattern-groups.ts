/**
 * The rules of one subject, action and effect, grouped by object pattern: the index entry the
 * indexed engine looks up per role of a request. A large policy has tens of thousands of these
 * and most hold a rule or two, so they start as a short list scanned in full; past
 * SMALL_GROUPS_LIMIT patterns they become a GroupIndex, where exact objects are one map lookup,
 * patterns are found by their literal prefix, and only patterns that start with a wildcard are
 * scanned. Rules repeating a pattern share its group, so a pattern is matched once per request
 * however many lines name it.
 */
import type { ObjectPattern } from './object-pattern.js';

/** The lines with one pattern. Most patterns are on one line: that one needs no array of its own. */
export class PatternGroup {
  private later?: number[];

  constructor(
    readonly pattern: ObjectPattern,
    private readonly first: number,
  ) {}

  addLine(index: number): void {
    (this.later ??= []).push(index);
  }

  /** Positions in the policy source of the lines with this pattern, ascending (explain reports file order). */
  lines(): number[] {
    return this.later ? [this.first, ...this.later] : [this.first];
  }
}

/** One group alone (the common case: no list around it), a short list, or an index. */
export type PatternGroups = PatternGroup | PatternGroup[] | GroupIndex;

/** The most patterns kept as a plain list; one more turns it into a GroupIndex. */
export const SMALL_GROUPS_LIMIT = 8;

const isExact = (pattern: ObjectPattern) => !pattern.usesUser && pattern.literalPrefix === pattern.source;

/** Adds the line at `index`; returns the container to keep (a list or an index once one grows past the other's size). */
export function addToGroups(groups: PatternGroups | undefined, pattern: ObjectPattern, index: number): PatternGroups {
  if (groups === undefined) return new PatternGroup(pattern, index);
  if (groups instanceof GroupIndex) {
    groups.add(pattern, index);
    return groups;
  }
  const list = groups instanceof PatternGroup ? [groups] : groups;
  const same = list.find((group) => group.pattern === pattern);
  if (same) same.addLine(index);
  else list.push(new PatternGroup(pattern, index));
  if (list.length === 1) return groups;
  if (list.length <= SMALL_GROUPS_LIMIT) return list;
  const grown = new GroupIndex();
  for (const group of list) grown.addGroup(group);
  return grown;
}

/** Call once every line is added: a GroupIndex orders its prefix lengths. */
export function sealGroups(groups: PatternGroups): void {
  if (groups instanceof GroupIndex) groups.seal();
}

export function someGroupMatches(groups: PatternGroups, object: string, user: string): boolean {
  if (groups instanceof PatternGroup) return groups.pattern.matches(object, user);
  if (groups instanceof GroupIndex) return groups.some(object, user);
  for (const group of groups) if (group.pattern.matches(object, user)) return true;
  return false;
}

export function matchingGroups(groups: PatternGroups, object: string, user: string, into: PatternGroup[]): void {
  if (groups instanceof PatternGroup) {
    if (groups.pattern.matches(object, user)) into.push(groups);
  } else if (groups instanceof GroupIndex) groups.collect(object, user, into);
  else for (const group of groups) if (group.pattern.matches(object, user)) into.push(group);
}

const NO_LENGTHS: readonly number[] = [];

export class GroupIndex {
  private readonly exact = new Map<string, PatternGroup>();
  private readonly byPrefix = new Map<string, PatternGroup[]>();
  /** Distinct literal-prefix lengths in byPrefix, longest first, so a lookup slices only lengths that exist. */
  private prefixLengths: readonly number[] = NO_LENGTHS;
  private readonly open: PatternGroup[] = [];

  add(pattern: ObjectPattern, index: number): void {
    const same = this.find(pattern);
    if (same) same.addLine(index);
    else this.addGroup(new PatternGroup(pattern, index));
  }

  addGroup(group: PatternGroup): void {
    const { pattern } = group;
    if (isExact(pattern)) this.exact.set(pattern.source, group);
    else if (pattern.literalPrefix === '') this.open.push(group);
    else {
      const bucket = this.byPrefix.get(pattern.literalPrefix);
      if (bucket) bucket.push(group);
      else this.byPrefix.set(pattern.literalPrefix, [group]);
    }
  }

  seal(): void {
    this.prefixLengths = [...new Set([...this.byPrefix.keys()].map((k) => k.length))].sort((a, b) => b - a);
  }

  some(object: string, user: string): boolean {
    if (this.exact.has(object)) return true;
    for (const length of this.prefixLengths) {
      if (length > object.length) continue;
      const bucket = this.byPrefix.get(object.slice(0, length));
      if (bucket) for (const group of bucket) if (group.pattern.matches(object, user)) return true;
    }
    for (const group of this.open) if (group.pattern.matches(object, user)) return true;
    return false;
  }

  collect(object: string, user: string, into: PatternGroup[]): void {
    const exact = this.exact.get(object);
    if (exact) into.push(exact);
    for (const length of this.prefixLengths) {
      if (length > object.length) continue;
      for (const group of this.byPrefix.get(object.slice(0, length)) ?? []) if (group.pattern.matches(object, user)) into.push(group);
    }
    for (const group of this.open) if (group.pattern.matches(object, user)) into.push(group);
  }

  private find(pattern: ObjectPattern): PatternGroup | undefined {
    if (isExact(pattern)) return this.exact.get(pattern.source);
    const list = pattern.literalPrefix === '' ? this.open : this.byPrefix.get(pattern.literalPrefix);
    return list?.find((group) => group.pattern === pattern);
  }
}
