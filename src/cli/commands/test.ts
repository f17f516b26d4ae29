import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { configFlag, loadOrReport, type CliCommand } from '../command.js';
import { engineOrReportAll } from '../policy-report.js';
import { junitXml } from '../../policy/junit.js';
import { describeCoverage, ruleCoverage } from '../../policy/test-coverage.js';
import { describeFailure, loadTestCases, runTestCases, testFiles } from '../../policy/test-cases.js';
import { testReport } from '../../policy/test-report.js';

/**
 * test [--file F] [--case TEXT] [--json] [--junit FILE] [--coverage]: runs the policy test
 * cases. --file keeps the test files whose name or path is F; --case the cases whose note
 * contains TEXT. A case with a missing field, or a file that does not parse, counts as failed.
 */
export const testCommand: CliCommand = {
  name: 'test',
  usage: 'test [--file F] [--case TEXT] [--json] [--junit FILE] [--coverage]',
  summary: 'run the policy test cases (filters, JSON, JUnit XML, rule coverage)',
  flags: { file: { type: 'string' }, case: { type: 'string' }, json: { type: 'boolean' }, junit: { type: 'string' }, coverage: { type: 'boolean' } },
  async run(flags, out) {
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    const engine = await engineOrReportAll(loaded.config.policy, out);
    if (!engine) return 1;
    const dir = loaded.config.policy.tests;
    const fileFilter = typeof flags.file === 'string' ? flags.file : undefined;
    const caseFilter = typeof flags.case === 'string' ? flags.case.toLowerCase() : undefined;
    const keepFile = (file: string) => fileFilter === undefined || file === fileFilter || file.endsWith(`/${fileFilter}`) || basename(file) === fileFilter;
    const { cases: all, problems } = loadTestCases(dir, keepFile);
    const cases = caseFilter === undefined ? all : all.filter((c) => c.note.toLowerCase().includes(caseFilter));
    if ((fileFilter !== undefined || caseFilter !== undefined) && cases.length === 0 && problems.length === 0) {
      out.error(`no test case matches${fileFilter !== undefined ? ` --file ${fileFilter}` : ''}${caseFilter !== undefined ? ` --case ${flags.case as string}` : ''} in ${dir}`);
      return 1;
    }
    const outcomes = runTestCases(engine, cases);
    const failed = outcomes.filter((o) => !o.passed);
    const failedCount = failed.length + problems.length;
    const coverage = flags.coverage ? ruleCoverage(engine, cases) : undefined;
    if (typeof flags.junit === 'string') {
      const files = testFiles(dir);
      const located = problems.map((message) => ({ file: files.find((f) => message.startsWith(`${f}:`)) ?? dir, message }));
      writeFileSync(flags.junit, junitXml(outcomes, located, describeFailure));
    }
    if (flags.json) {
      out.log(JSON.stringify(testReport(engine, outcomes, problems, coverage)));
      return failedCount > 0 ? 1 : 0;
    }
    for (const problem of problems) out.error(problem);
    for (const failure of failed) out.log(describeFailure(failure));
    if (coverage) for (const line of describeCoverage(coverage, cases.length)) out.log(line);
    out.log(`${outcomes.length - failed.length} passed, ${failedCount} failed`);
    return failedCount > 0 ? 1 : 0;
  },
};

