/**
 * rate_limits from config, compiled once. publish and rpc: the first rule whose pattern matches
 * (channel or method: exact, or a prefix ending in `*`, so `chat:*` is the chat namespace) is the
 * one limit that applies. connect: every rule applies, each counting by address or by user.
 */
import type { Config } from '../config/schema.js';

type RateLimitsConfig = Config['rate_limits'];

export interface Rule {
  /** Part of the counter key: the same rule on every replica counts into the same key. */
  readonly id: string;
  readonly limit: number;
  readonly windowMs: number;
}

export interface CompiledRules {
  readonly connect: { readonly address: readonly Rule[]; readonly user: readonly Rule[] };
  /** The first matching rule, if any. */
  publish(channel: string): Rule | undefined;
  rpc(method: string): Rule | undefined;
  readonly any: boolean;
}

const ruleOf = (pattern: string, limit: number, windowMs: number): Rule => ({ id: `${pattern}|${limit}/${windowMs}`, limit, windowMs });

function firstMatch(rules: ReadonlyArray<{ pattern: string; rule: Rule }>): (name: string) => Rule | undefined {
  const compiled = rules.map(({ pattern, rule }) =>
    pattern.endsWith('*') ? { matches: (name: string) => name.startsWith(pattern.slice(0, -1)), rule } : { matches: (name: string) => name === pattern, rule },
  );
  return (name) => compiled.find((c) => c.matches(name))?.rule;
}

export function compileRules(config: RateLimitsConfig): CompiledRules {
  const connect = (by: 'address' | 'user') => config.connect.filter((r) => r.by === by).map((r) => ruleOf(by, r.limit, r.window));
  return {
    connect: { address: connect('address'), user: connect('user') },
    publish: firstMatch(config.publish.map((r) => ({ pattern: r.channel, rule: ruleOf(r.channel, r.limit, r.window) }))),
    rpc: firstMatch(config.rpc.map((r) => ({ pattern: r.method, rule: ruleOf(r.method, r.limit, r.window) }))),
    any: config.connect.length + config.publish.length + config.rpc.length > 0,
  };
}

/** Cross-checks zod cannot express alone; each line names the config path. */
export function rateLimitProblems(config: RateLimitsConfig): string[] {
  const problems: string[] = [];
  const byAddress = config.connect.findIndex((r) => r.by === 'address');
  if (byAddress >= 0 && config.address_header === '') {
    problems.push(
      `rate_limits.connect[${byAddress}].by: "address" needs rate_limits.address_header (a header your load balancer sets, listed in Centrifugo's http_headers)`,
    );
  }
  const patterns = [
    ...config.publish.map((r, i) => [`rate_limits.publish[${i}].channel`, r.channel] as const),
    ...config.rpc.map((r, i) => [`rate_limits.rpc[${i}].method`, r.method] as const),
  ];
  for (const [path, pattern] of patterns) {
    const star = pattern.indexOf('*');
    if (star >= 0 && star !== pattern.length - 1) problems.push(`${path}: "*" may only end a prefix, got "${pattern}"`);
  }
  return problems;
}
