import { configFlag, engineOrReport, loadOrReport, type CliCommand } from '../command.js';

export const explainCommand: CliCommand = {
  name: 'explain',
  usage: 'explain --user U [--roles a,b] --action ACT --object OBJ [--json]',
  summary: 'show the decision and the rules behind it',
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
    const engine = await engineOrReport(loaded.config.policy, out);
    if (!engine) return 1;
    const roles = typeof flags.roles === 'string' && flags.roles !== '' ? flags.roles.split(',').map((r) => r.trim()) : [];
    const result = engine.explain({ user, roles, action, object });
    const rule = (r: (typeof result.deciding)[number]) => ({ file: r.location.file, line: r.location.line, rule: [r.ptype, ...r.values].join(', ') });
    if (flags.json) {
      out.log(
        JSON.stringify({
          decision: result.allowed ? 'allow' : 'deny',
          policy_version: result.version,
          deciding: result.deciding.map(rule),
          matched: result.matched.map(rule),
        }),
      );
      return 0;
    }
    out.log(`decision: ${result.allowed ? 'allow' : 'deny'}`);
    out.log(`policy version: ${result.version}`);
    if (result.deciding.length === 0) out.log('decided by: no rule matched (default deny)');
    for (const r of result.deciding.map(rule)) out.log(`decided by: ${r.file}:${r.line}: ${r.rule}`);
    for (const r of result.matched.filter((m) => !result.deciding.includes(m)).map(rule)) out.log(`also matched: ${r.file}:${r.line}: ${r.rule}`);
    return 0;
  },
};
