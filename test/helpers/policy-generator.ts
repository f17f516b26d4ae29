/**
 * Seeded, reproducible policies and requests for comparing the indexed engine with casbin:
 * nested (sometimes cyclic) roles, deny lines, wildcards in every position, {user}, implicit
 * roles and roles that arrive with the request (token roles).
 *
 * With `{ boundaries: true }` (the differential tests) it also produces the cases an index is
 * most likely to get wrong: objects equal to a pattern's literal prefix (`chat:` against
 * `chat:*`) or one character off it, regular-expression metacharacters and `:` `.` `{` `}` `*`
 * in user IDs, namespaces and objects, user IDs that are role names (including plain IDs made
 * groups by a `g` line), and anonymous requests that carry roles. Without it the sequence is
 * the one the benchmark has always used.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PolicyQuery } from '../../src/policy/engine.js';
import type { PolicyRule, PolicySource } from '../../src/policy/policy-source.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const DEFAULT_MODEL = readFileSync(resolve(ROOT, 'policies/model.conf'), 'utf8');
const ACTIONS = ['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc'];

/** mulberry32: small, fast and good enough to spread test cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Generated {
  readonly source: PolicySource;
  requests(count: number): PolicyQuery[];
}

export interface GeneratorOptions {
  /** Add the boundary cases described above (changes the generated sequence). */
  readonly boundaries?: boolean;
}

/** Namespaces and user IDs full of characters that mean something to a RegExp or a pattern. */
const ODD_NAMESPACES = ['a.b', 'x+y', '(g)', '[s]', '$^', 'q?', 'p|q', 'b\\s', '{x}', 'c:d', 'st*r', 'dot.', '-'];
const ODD_USERS = ['a.b', 'x+y', 'u*', '*', '{user}', 'a:b', '(1)', '[0-9]', '\\d', '$', '.*', 'u?', 'u|v', 'user}', '{'];

/** Text before the first `*` or `{user}`, worked out here rather than by src/policy. */
export function literalPrefixOf(pattern: string): string {
  const cut = [pattern.indexOf('*'), pattern.indexOf('{user}')].filter((i) => i >= 0);
  return cut.length === 0 ? pattern : pattern.slice(0, Math.min(...cut));
}

export function generatePolicy(seed: number, ruleCount: number, modelText = DEFAULT_MODEL, options: GeneratorOptions = {}): Generated {
  const random = prng(seed);
  const edges = options.boundaries === true;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const namespaces = Array.from({ length: Math.max(4, Math.round(ruleCount / 50)) }, (_, i) => `ns${i}`);
  if (edges) namespaces.push(...ODD_NAMESPACES);
  const roleCount = Math.max(5, Math.round(ruleCount / 20));
  const roles = Array.from({ length: roleCount }, (_, i) => `role:r${i}`);
  const users = Array.from({ length: Math.max(10, Math.round(ruleCount / 10)) }, (_, i) => `u${i}`);
  if (edges) users.push(...ODD_USERS);
  const rules: PolicyRule[] = [];
  const add = (ptype: string, values: string[]) => rules.push({ ptype, values, location: { file: 'generated.csv', line: rules.length + 1 } });
  /** Patterns in p lines, to ask for their literal prefixes. */
  const patterns: string[] = [];

  // Users in roles, roles in roles (chains, and now and then a cycle).
  for (const user of users) if (random() < 0.6) add('g', [user, pick(roles)]);
  for (let i = 0; i < roleCount; i++) {
    if (random() < 0.4) add('g', [roles[i] as string, pick(roles)]);
    if (i > 0 && random() < 0.3) add('g', [roles[i] as string, roles[i - 1] as string]);
  }
  // Groups without a role prefix: a user ID on the right of a g line becomes a role name.
  if (edges) for (let i = 0; i < 3; i++) add('g', [pick(users), pick(users)]);
  const objectPattern = (): string => {
    const ns = pick(namespaces);
    switch (Math.floor(random() * 10)) {
      case 0:
        return '*';
      case 1:
        return `${ns}:*`;
      case 2:
        return `${ns}:room${Math.floor(random() * 5)}`;
      case 3:
        return `${ns}:room*`;
      case 4:
        return `*:room${Math.floor(random() * 5)}`;
      case 5:
        return `personal:{user}`;
      case 6:
        return `${ns}:{user}:*`;
      case 7:
        return `*{user}*`;
      case 8:
        return `${ns}:*:x*`;
      default:
        return `${ns}:room${Math.floor(random() * 5)}:*`;
    }
  };
  const subject = () => {
    const r = random();
    return r < 0.5 ? pick(roles) : r < 0.8 ? pick(users) : r < 0.9 ? 'authenticated' : 'anonymous';
  };
  const oddPattern = (): string => {
    const ns = pick(namespaces);
    switch (Math.floor(random() * 5)) {
      case 0:
        return `${ns}*`;
      case 1:
        return `${ns}:{user}`;
      case 2:
        return `{user}:${ns}`;
      case 3:
        return `${ns}:{x}*`;
      default:
        return `${ns}.${pick(ODD_USERS).replaceAll('*', '')}`;
    }
  };
  while (rules.length < ruleCount) {
    const who = subject();
    const pattern = edges && random() < 0.2 ? oddPattern() : objectPattern();
    if (edges) patterns.push(pattern);
    add('p', [who, pattern, pick(ACTIONS), random() < 0.15 ? 'deny' : 'allow']);
  }

  const text = rules.map((r) => [r.ptype, ...r.values].join(', ')).join('\n');
  const source: PolicySource = { modelText, modelFile: 'model.conf', rules, files: ['generated.csv'], version: `gen-${seed}-${ruleCount}` };

  /** A pattern's literal prefix, or one character short of it, or one character past it. */
  const nearPrefix = (user: string): string => {
    const prefix = literalPrefixOf(pick(patterns));
    const r = random();
    return r < 0.6 ? prefix : r < 0.8 ? prefix.slice(0, -1) : `${prefix}${pick(['x', ':', '*', user.slice(0, 1)])}`;
  };
  const requestObject = (user: string, action: string): string => {
    if (edges && patterns.length > 0 && random() < 0.25) return nearPrefix(user);
    if (action === 'connect' || action === 'refresh') return random() < 0.9 ? '' : `${pick(namespaces)}:room1`;
    const ns = pick(namespaces);
    switch (Math.floor(random() * 7)) {
      case 0:
        return `${ns}:room${Math.floor(random() * 6)}`;
      case 1:
        return `personal:${user}`;
      case 2:
        return `personal:${pick(users)}`;
      case 3:
        return `${ns}:${user}:inbox`;
      case 4:
        return `${ns}:room${Math.floor(random() * 6)}:sub`;
      case 5:
        return `${ns}:a:xyz`;
      default:
        return `other:${user}:z`;
    }
  };
  return {
    source: { ...source, version: `${source.version}-${text.length}` },
    requests(count) {
      return Array.from({ length: count }, () => {
        const r = random();
        // Now and then a user ID that names a role (a g group, role:…, an implicit role): it must get none of that role's rights.
        const roleNamed = () => pick([...roles, 'authenticated', 'anonymous']);
        const user = r < 0.1 ? '' : r < 0.75 ? pick(users) : r < 0.8 ? roleNamed() : `stranger${Math.floor(random() * 100)}`;
        const withRoles = user !== '' || (edges && random() < 0.5);
        const tokenRole = () => (random() < 0.8 ? pick(roles) : edges ? pick(['role:unknown', 'anonymous', 'authenticated', pick(users)]) : 'role:unknown');
        const tokenRoles = withRoles ? Array.from({ length: Math.floor(random() * 3) }, tokenRole) : [];
        const action = pick(ACTIONS);
        return { user, roles: tokenRoles, action, object: requestObject(user, action) };
      });
    },
  };
}
