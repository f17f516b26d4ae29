import { configFlag, engineOrReport, loadOrReport, type CliCommand } from '../command.js';
import { describeFailure, loadTestCases, runTestCases } from '../../policy/test-cases.js';

export const testCommand: CliCommand = {
  name: 'test',
  usage: 'test',
  summary: 'run the policy test cases',
  flags: {},
  async run(flags, out) {
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    const engine = await engineOrReport(loaded.config.policy, out);
    if (!engine) return 1;
    const { cases, problems } = loadTestCases(loaded.config.policy.tests);
    for (const problem of problems) out.error(problem);
    const outcomes = runTestCases(engine, cases);
    const failed = outcomes.filter((o) => !o.passed);
    for (const failure of failed) out.log(describeFailure(failure));
    out.log(`${outcomes.length - failed.length} passed, ${failed.length + problems.length} failed`);
    return failed.length > 0 || problems.length > 0 ? 1 : 0;
  },
};
