/**
 * The decision log: one structured line per deny and per sampled allow, with the rule that
 * decided, the policy version and the trace id, so a security team can answer "why was this
 * refused?" from the logs. Only the policy question is logged (user, roles, action, object):
 * never tokens, payloads, connection info or headers.
 */
import type { Logger } from 'pino';
import { logIds, type TraceContext } from '../telemetry/tracing.js';
import type { PolicyEngine, PolicyQuery } from './engine.js';
import type { PolicyRule } from './policy-source.js';

export const describeRule = (rule: PolicyRule): string => `${rule.location.file}:${rule.location.line}: ${[rule.ptype, ...rule.values].join(', ')}`;

export class DecisionLog {
  constructor(
    private readonly log: Logger,
    private readonly allowSample: number,
    private readonly onLine: (decision: 'allow' | 'deny') => void = () => undefined,
    private readonly random: () => number = Math.random,
  ) {}

  record(query: PolicyQuery, allowed: boolean, engine: PolicyEngine, shadow: boolean, trace?: TraceContext): void {
    if (allowed && (this.allowSample === 0 || this.random() >= this.allowSample)) return;
    const explanation = engine.explain(query);
    const decision = allowed ? 'allow' : 'deny';
    this.onLine(decision);
    this.log.info(
      {
        decision,
        user: query.user,
        roles: query.roles,
        action: query.action,
        object: query.object,
        rule: explanation.deciding[0] ? describeRule(explanation.deciding[0]) : 'no rule matched (default deny)',
        policy_version: engine.version,
        ...logIds(trace),
        // In shadow mode the answer was an allow whatever the policy said.
        ...(shadow ? { answered: 'allow (shadow mode)' } : {}),
      },
      'decision',
    );
  }
}
