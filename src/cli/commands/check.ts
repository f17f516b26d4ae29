import { configFlag, engineOrReport, loadOrReport, type CliCommand } from '../command.js';
import { firstRunWarnings } from '../../config/first-run.js';
import { lintRules } from '../../policy/lint.js';
import { describeFailure, loadTestCases, runTestCases } from '../../policy/test-cases.js';

export const checkCommand: CliCommand = {
  name: 'check',
  usage: 'check',
  summary: 'validate config, model, policy and policy tests',
  flags: {},
  async run(flags, out) {
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    const engine = await engineOrReport(loaded.config.policy, out);
    const { cases, problems } = loadTestCases(loaded.config.policy.tests);
    for (const problem of problems) out.error(problem);
    if (!engine) return 1;
    const failures = runTestCases(engine, cases).filter((o) => !o.passed);
    for (const failure of failures) out.error(describeFailure(failure));
    if (problems.length > 0 || failures.length > 0) return 1;
    out.log(`ok: ${loaded.file}: policy ${engine.version}, ${engine.source.rules.length} rules, ${cases.length} test cases pass`);
    out.log(`evaluator: ${engine.evaluator}`);
    // Settings that will refuse every user go to stderr: they are about this deployment, not the policy.
    for (const warning of firstRunWarnings(loaded.config)) out.error(`warning: ${warning}`);
    for (const warning of lintRules(engine.source.rules)) out.log(`warning: ${warning}`);
    return 0;
  },
};
