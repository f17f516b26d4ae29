import { configFlag, loadOrReport, type CliCommand } from '../command.js';
import { engineOrReportAll } from '../policy-report.js';
import { channelTemplateWarnings, firstRunWarnings } from '../../config/first-run.js';
import { lintPolicy } from '../../policy/lint.js';
import { describeFailure, loadTestCases, runTestCases } from '../../policy/test-cases.js';

/**
 * check [--strict]: config, model, policy (every bad line), the test cases, then lint: one
 * `warning: file:line: …` per problem. Warnings fail the check with --strict or `policy.strict`.
 */
export const checkCommand: CliCommand = {
  name: 'check',
  usage: 'check [--strict]',
  summary: 'validate config, model, policy and policy tests; lint the policy',
  flags: { strict: { type: 'boolean' } },
  async run(flags, out) {
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    const { policy } = loaded.config;
    const engine = await engineOrReportAll(policy, out);
    const { cases, problems } = loadTestCases(policy.tests);
    for (const problem of problems) out.error(problem);
    if (!engine) return 1;
    const failures = runTestCases(engine, cases).filter((o) => !o.passed);
    for (const failure of failures) out.error(describeFailure(failure));
    if (problems.length > 0 || failures.length > 0) return 1;
    const warnings = lintPolicy(engine.source, policy.role_prefixes);
    if ((flags.strict || policy.strict) && warnings.length > 0) {
      for (const warning of warnings) out.error(`error: ${warning}`);
      out.error(`refused: ${warnings.length} lint problem(s) (${flags.strict ? '--strict' : 'policy.strict'})`);
      return 1;
    }
    out.log(`ok: ${loaded.file}: policy ${engine.version}, ${engine.source.rules.length} rules, ${cases.length} test cases pass`);
    out.log(`evaluator: ${engine.evaluator}`);
    // Settings that will refuse every user go to stderr: they are about this deployment, not the policy.
    for (const warning of [...firstRunWarnings(loaded.config), ...channelTemplateWarnings(loaded.config, engine.source.rules)]) out.error(`warning: ${warning}`);
    for (const warning of warnings) out.log(`warning: ${warning}`);
    return 0;
  },
};
