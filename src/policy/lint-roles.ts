/**
 * The role graph of the `g` lines, as lint sees it: who is a member of what (with the line that
 * says so), cycles, and roles that are granted but give nothing.
 */
import type { PolicyRule } from './policy-source.js';
import { runAtOnce, stepDue, type Steps } from './time-slices.js';

/** casbin's role manager follows at most this many g links (as the engines do). */
const MAX_ROLE_HOPS = 10;

export interface RoleEdge {
  readonly member: string;
  readonly role: string;
  readonly rule: PolicyRule;
}

export class RoleGraph {
  private constructor(
    /** member → its direct g lines, in file order. */
    private readonly edges: ReadonlyMap<string, RoleEdge[]>,
    /** Every g line in the order of the rules (file order for a loaded policy: sorting it is one pass). */
    private readonly inRuleOrder: readonly RoleEdge[],
  ) {}

  static of(rules: readonly PolicyRule[]): RoleGraph {
    return runAtOnce(RoleGraph.steps(rules));
  }

  /** RoleGraph.of a few rules per step (time-slices.ts). */
  static *steps(rules: readonly PolicyRule[]): Steps<RoleGraph> {
    const edges = new Map<string, RoleEdge[]>();
    const all: RoleEdge[] = [];
    for (let index = 0; index < rules.length; index++) {
      if (stepDue(index)) yield;
      const rule = rules[index]!;
      if (rule.ptype !== 'g' || rule.values.length !== 2) continue;
      const [member, role] = rule.values as [string, string];
      const edge = { member, role, rule };
      const list = edges.get(member);
      if (list) list.push(edge);
      else edges.set(member, [edge]);
      all.push(edge);
    }
    return new RoleGraph(edges, all);
  }

  /** Every g line, in file order. */
  allEdges(): RoleEdge[] {
    return [...this.inRuleOrder].sort((a, b) => order(a.rule, b.rule));
  }

  /**
   * The shortest chain of g lines from `name` to `role` (within MAX_ROLE_HOPS), or undefined;
   * [] when name is role itself.
   */
  chain(name: string, role: string): RoleEdge[] | undefined {
    const via = new Map<string, RoleEdge | null>([[name, null]]);
    let frontier = [name];
    for (let hop = 1; hop <= MAX_ROLE_HOPS && frontier.length > 0 && !via.has(role); hop++) {
      const next: string[] = [];
      for (const node of frontier) {
        for (const edge of this.edges.get(node) ?? []) {
          if (via.has(edge.role)) continue;
          via.set(edge.role, edge);
          next.push(edge.role);
        }
      }
      frontier = next;
    }
    if (!via.has(role)) return undefined;
    const path: RoleEdge[] = [];
    for (let edge = via.get(role); edge; edge = via.get(edge.member)) path.unshift(edge);
    return path;
  }

  /** Every name reachable from `name` through g lines (itself included), within MAX_ROLE_HOPS. */
  closure(name: string): Set<string> {
    const seen = new Set([name]);
    let frontier = [name];
    for (let hop = 0; hop < MAX_ROLE_HOPS && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const node of frontier) {
        for (const edge of this.edges.get(node) ?? []) {
          if (!seen.has(edge.role)) {
            seen.add(edge.role);
            next.push(edge.role);
          }
        }
      }
      frontier = next;
    }
    return seen;
  }

  /** Each cycle once, as the g lines that form it, starting at its first line in file order. */
  cycles(): RoleEdge[][] {
    return runAtOnce(this.cycleSteps());
  }

  /** cycles() one g line per step (time-slices.ts): each step walks at most MAX_ROLE_HOPS links. */
  *cycleSteps(): Steps<RoleEdge[][]> {
    const found: RoleEdge[][] = [];
    const reported = new Set<string>();
    for (const start of this.allEdges()) {
      yield;
      if (reported.has(start.member)) continue;
      const back = this.chain(start.role, start.member);
      if (!back) continue;
      const cycle = [start, ...back];
      if (cycle.some((e) => reported.has(e.member))) continue;
      for (const edge of cycle) reported.add(edge.member);
      found.push(cycle);
    }
    return found;
  }
}

export const order = (a: PolicyRule, b: PolicyRule): number =>
  a.location.file === b.location.file ? a.location.line - b.location.line : a.location.file < b.location.file ? -1 : 1;
