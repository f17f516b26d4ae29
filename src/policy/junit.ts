/** JUnit XML for CI: one testsuite per test file, one testcase per policy case, load problems as errors. */
import type { TestOutcome } from './test-cases.js';

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch);

export interface JunitProblem {
  readonly file: string;
  readonly message: string;
}

export function junitXml(outcomes: readonly TestOutcome[], problems: readonly JunitProblem[], describe: (o: TestOutcome) => string): string {
  const files = [...new Set([...outcomes.map((o) => o.testCase.file), ...problems.map((p) => p.file)])];
  const failures = outcomes.filter((o) => !o.passed).length;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="policy" tests="${outcomes.length + problems.length}" failures="${failures}" errors="${problems.length}">`];
  for (const file of files) {
    const mine = outcomes.filter((o) => o.testCase.file === file);
    const broken = problems.filter((p) => p.file === file);
    const failed = mine.filter((o) => !o.passed).length;
    lines.push(`  <testsuite name="${escape(file)}" tests="${mine.length + broken.length}" failures="${failed}" errors="${broken.length}">`);
    for (const problem of broken) {
      lines.push(`    <testcase classname="${escape(file)}" name="load"><error message="${escape(problem.message)}"/></testcase>`);
    }
    for (const o of mine) {
      const name = `cases[${o.testCase.index}] ${o.testCase.note}`;
      if (o.passed) lines.push(`    <testcase classname="${escape(file)}" name="${escape(name)}"/>`);
      else lines.push(`    <testcase classname="${escape(file)}" name="${escape(name)}"><failure message="expected ${o.testCase.expect}, got ${o.got}">${escape(describe(o))}</failure></testcase>`);
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
