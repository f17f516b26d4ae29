/**
 * The machine-readable test run (test-report.ts) and its JUnit XML (junit.ts) built directly,
 * asserted exactly: what the mutation runs of those files (TESTING.md) showed the CLI tests of
 * policy-test-command.test.ts leave open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { junitXml } from '../../src/policy/junit.js';
import { parsePolicyText } from '../../src/policy/policy-source.js';
import type { PolicyTestCase, TestOutcome } from '../../src/policy/test-cases.js';
import { testReport } from '../../src/policy/test-report.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';

const testCase = (over: Partial<PolicyTestCase>): PolicyTestCase => ({ note: 'n', user: 'u1', roles: [], action: 'subscribe', object: 'chat:x', expect: 'allow', file: 't.yaml', index: 0, ...over });
const outcome = (over: Partial<PolicyTestCase>, got: 'allow' | 'deny'): TestOutcome => {
  const c = testCase(over);
  return { testCase: c, passed: c.expect === got, got };
};

describe('test-report: testReport', () => {
  const lines = ['p, role:a, chat:*, subscribe, allow', 'p, role:a, chat:secret, subscribe, deny', 'p, u1, chat:*, publish, allow'];
  const build = () => IndexedEngine.build({ modelText: DEFAULT_MODEL, modelFile: 'model.conf', rules: parsePolicyText(lines.join('\n'), 'p.csv'), files: ['p.csv'], version: 'v7' });
  const rule = (line: number) => ({ file: 'p.csv', line, rule: lines[line - 1] });

  it('counts, every case with the lines that decided it (asked with its roles), problems counted as failures', async () => {
    const engine = await build();
    const outcomes = [
      outcome({ roles: ['role:a'], object: 'chat:secret', expect: 'deny', file: 'a.yaml', index: 1, note: 'secret' }, 'deny'),
      outcome({ roles: ['role:a'], file: 'a.yaml', index: 2 }, 'allow'),
      outcome({ action: 'publish', expect: 'deny', file: 'b.yaml' }, 'allow'),
      outcome({ user: 'u2' }, 'deny'),
    ];
    const report = testReport(engine, outcomes, ['c.yaml: invalid YAML: x', 'd.yaml: expected a list of cases or a mapping with "cases:"']);
    assert.deepEqual(report, {
      policy_version: 'v7',
      passed: 2,
      failed: 4,
      problems: ['c.yaml: invalid YAML: x', 'd.yaml: expected a list of cases or a mapping with "cases:"'],
      cases: [
        { file: 'a.yaml', index: 1, note: 'secret', user: 'u1', roles: ['role:a'], action: 'subscribe', object: 'chat:secret', expect: 'deny', got: 'deny', passed: true, deciding: [rule(2)] },
        { file: 'a.yaml', index: 2, note: 'n', user: 'u1', roles: ['role:a'], action: 'subscribe', object: 'chat:x', expect: 'allow', got: 'allow', passed: true, deciding: [rule(1)] },
        { file: 'b.yaml', index: 0, note: 'n', user: 'u1', roles: [], action: 'publish', object: 'chat:x', expect: 'deny', got: 'allow', passed: false, deciding: [rule(3)] },
        { file: 't.yaml', index: 0, note: 'n', user: 'u2', roles: [], action: 'subscribe', object: 'chat:x', expect: 'allow', got: 'deny', passed: false, deciding: [] },
      ],
    });
    assert.equal('coverage' in report, false);
  });

  it('coverage, when given: each line with its counts', async () => {
    const engine = await build();
    const [first, second] = engine.source.rules;
    const report = testReport(engine, [], [], [
      { rule: first as never, cases: 3, allow: 2, deny: 1 },
      { rule: second as never, cases: 0, allow: 0, deny: 0 },
    ]);
    assert.deepEqual(report, {
      policy_version: 'v7',
      passed: 0,
      failed: 0,
      problems: [],
      cases: [],
      coverage: [
        { ...rule(1), cases: 3, allow: 2, deny: 1 },
        { ...rule(2), cases: 0, allow: 0, deny: 0 },
      ],
    });
    assert.deepEqual(testReport(engine, [], [], []).coverage, []);
  });
});

describe('junit: junitXml', () => {
  it('a suite per file (cases\' files first, then files with only problems), counts, escaping, a trailing newline', () => {
    const outcomes = [
      outcome({ file: 'a&b.yaml', index: 0, note: `<tag> "q" 'a' & more` }, 'allow'),
      outcome({ file: 'c.yaml', index: 0, note: 'c one', expect: 'deny' }, 'allow'),
      outcome({ file: 'a&b.yaml', index: 1, note: 'second', expect: 'deny' }, 'allow'),
      outcome({ file: 'c.yaml', index: 1, note: 'c two' }, 'allow'),
      outcome({ file: 'a&b.yaml', index: 2, note: 'third' }, 'allow'),
    ];
    const problems = [
      { file: 'broken.yaml', message: `broken.yaml: invalid YAML: "x" <at> line 1 & 'y'` },
      { file: 'c.yaml', message: 'c.yaml: cases[2].user: required' },
    ];
    const xml = junitXml(outcomes, problems, (o) => `FAIL <${o.testCase.note}> & "${o.got}"`);
    assert.equal(
      xml,
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="policy" tests="7" failures="2" errors="2">',
        '  <testsuite name="a&amp;b.yaml" tests="3" failures="1" errors="0">',
        '    <testcase classname="a&amp;b.yaml" name="cases[0] &lt;tag&gt; &quot;q&quot; &apos;a&apos; &amp; more"/>',
        '    <testcase classname="a&amp;b.yaml" name="cases[1] second"><failure message="expected deny, got allow">FAIL &lt;second&gt; &amp; &quot;allow&quot;</failure></testcase>',
        '    <testcase classname="a&amp;b.yaml" name="cases[2] third"/>',
        '  </testsuite>',
        '  <testsuite name="c.yaml" tests="3" failures="1" errors="1">',
        '    <testcase classname="c.yaml" name="load"><error message="c.yaml: cases[2].user: required"/></testcase>',
        '    <testcase classname="c.yaml" name="cases[0] c one"><failure message="expected deny, got allow">FAIL &lt;c one&gt; &amp; &quot;allow&quot;</failure></testcase>',
        '    <testcase classname="c.yaml" name="cases[1] c two"/>',
        '  </testsuite>',
        '  <testsuite name="broken.yaml" tests="1" failures="0" errors="1">',
        '    <testcase classname="broken.yaml" name="load"><error message="broken.yaml: invalid YAML: &quot;x&quot; &lt;at&gt; line 1 &amp; &apos;y&apos;"/></testcase>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n'),
    );
  });

  it('nothing to report: an empty run still makes valid XML', () => {
    assert.equal(junitXml([], [], () => ''), '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="policy" tests="0" failures="0" errors="0">\n</testsuites>\n');
  });
});
