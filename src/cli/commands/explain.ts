import { configFlag, loadOrReport, type CliCommand } from '../command.js';
import { engineOrReportAll } from '../policy-report.js';
import { unknownAction } from '../../policy/actions.js';
import { describeRoute, explainInDetail } from '../../policy/explain-detail.js';
import { explainReport, rolesList, ruleText } from '../../policy/explain-report.js';
import type { PolicyRule } from '../../policy/policy-source.js';

/**
 * explain --user U [--roles a,b] --action ACT --object OBJ [--json]: the decision, the lines
 * that decided and that also matched, how the user holds each one's subject, and the nearest
 * lines that did not match, with why.
 */
export const explainCommand: CliCommand = {
  name: 'explain',
  usage: 'explain --user U [--roles a,b] --action ACT --object OBJ [--json]',
  summary: 'show the decision, the rules behind it, role chains and near misses',
  flags: {
    user: { type: 'string' },
    roles: { type: 'string' },
    action: { type: 'string' },
    object: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(flags, out) {
    const { user, action, object } = flags;
    if (typeof user !== 'string' || typeof action !== 'string' || typeof object !== 'string') {
      out.error('explain needs --user, --action and --object (use --user "" for anonymous, --object "" for connect)');
      return 2;
    }
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    const engine = await engineOrReportAll(loaded.config.policy, out);
    if (!engine) return 1;
    const roles = rolesList(typeof flags.roles === 'string' ? flags.roles : '');
    const query = { user, roles, action, object };
    if (flags.json) {
      out.log(JSON.stringify(explainReport(engine, query, loaded.config.policy.role_prefixes)));
      return 0;
    }
    const result = explainInDetail(engine, query, loaded.config.policy.role_prefixes);
    const warnings = [unknownAction(action)].filter((w): w is string => w !== undefined);
    const routeOf = (r: PolicyRule) => result.routes.get(r.values[0] ?? '');
    for (const warning of warnings) out.error(`warning: ${warning}`);
    out.log(`decision: ${result.allowed ? 'allow' : 'deny'}`);
    out.log(`policy version: ${result.version}`);
    const line = (label: string, r: PolicyRule) => {
      out.log(`${label}: ${r.location.file}:${r.location.line}: ${ruleText(r)}`);
      const route = routeOf(r);
      if (route) out.log(`  ${r.values[0]} via ${describeRoute(route)}`);
    };
    if (result.deciding.length === 0) out.log('decided by: no rule matched (default deny)');
    for (const r of result.deciding) line('decided by', r);
    for (const r of result.matched.filter((m) => !result.deciding.includes(m))) line('also matched', r);
    for (const m of result.nearMisses) out.log(`did not match: ${m.rule.location.file}:${m.rule.location.line}: ${ruleText(m.rule)} (${m.why})`);
    return 0;
  },
};
