// CI's supply-chain step: `npm audit --omit=dev --audit-level=high`, failing on any high or
// critical advisory in what production installs. npm also exits non-zero when its advisory
// endpoint cannot be used (offline, a mirror without the audit API); that is said plainly here
// and fails the step too: an audit that did not run must never read as one that passed.
// `--report FILE` judges a saved `npm audit --json` report instead (to try the step by hand).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LEVELS = ['high', 'critical'];
const from = process.argv.indexOf('--report');
const text =
  from > 0
    ? readFileSync(process.argv[from + 1], 'utf8')
    : spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;

let report;
try {
  report = JSON.parse(text);
} catch {
  report = undefined;
}
const counts = report?.metadata?.vulnerabilities;
if (!counts) {
  const why = report?.message ?? report?.error?.summary ?? (text.trim().split('\n')[0] || 'no output');
  console.error(`npm audit did not run: the registry's advisory endpoint could not be used (${why}).`);
  console.error('Failing the step: run it where the npm registry (or a mirror with its audit API) answers.');
  process.exit(2);
}
const serious = Object.values(report.vulnerabilities ?? {}).filter((v) => LEVELS.includes(v.severity));
for (const v of serious) {
  const titles = (v.via ?? []).filter((via) => typeof via === 'object').map((via) => via.title);
  console.error(`${v.severity}: ${v.name} ${v.range ?? ''}${titles.length ? ` (${titles.join('; ')})` : ''}${v.fixAvailable ? ', fix available' : ''}`);
}
const total = counts.total ?? Object.values(counts).reduce((a, b) => a + b, 0);
console.log(`npm audit (production dependencies): ${total} advisories, ${serious.length} high or critical`);
process.exit(serious.length > 0 ? 1 : 0);
