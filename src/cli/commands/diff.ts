import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyEngine, PolicyQuery } from '../../policy/engine.js';
import { describeRule } from '../../policy/decision-log.js';
import type { CliCommand } from '../command.js';
import { engineOrReportAll } from '../policy-report.js';

/** One request per line: {"user": "56", "roles": ["role:member"], "action": "subscribe", "object": "chat:lobby"}. */
function readRequests(file: string): { requests: Array<PolicyQuery & { line: number }>; problems: string[] } {
  const requests: Array<PolicyQuery & { line: number }> = [];
  const problems: string[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((text, index) => {
      if (text.trim() === '') return;
      const line = index + 1;
      try {
        const value = JSON.parse(text) as Record<string, unknown>;
        const roles = value.roles ?? [];
        if (typeof value.user !== 'string' || typeof value.action !== 'string' || typeof (value.object ?? '') !== 'string' || !Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) {
          throw new Error('expected {"user": string, "roles": [string], "action": string, "object": string}');
        }
        requests.push({ line, user: value.user, roles: roles as string[], action: value.action, object: (value.object as string | undefined) ?? '' });
      } catch (err) {
        problems.push(`${file}:${line}: ${(err as Error).message}`);
      }
    });
  return { requests, problems };
}

const NO_RULE = 'no rule matched';
const policyIn = (dir: string) => ({ model: join(dir, 'model.conf'), policy: dir });
const verdict = (engine: PolicyEngine, query: PolicyQuery) => {
  const explanation = engine.explain(query);
  return { decision: explanation.allowed ? 'allow' : 'deny', rule: explanation.deciding[0] ? describeRule(explanation.deciding[0]) : NO_RULE };
};

type Verdict = ReturnType<typeof verdict>;

/**
 * Changes grouped by the line responsible: the new policy's deciding line when one decides
 * now, else the old deciding line (an allow that no longer matches falls to the default deny).
 */
class RuleTally {
  private readonly counts = new Map<string, number>();

  add(was: Verdict, now: Verdict): void {
    const rule = now.rule !== NO_RULE ? `${now.rule} (new)` : `${was.rule} (old)`;
    const key = `${rule}\u0000${was.decision} → ${now.decision}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** `by rule: 3 allow → deny: file:line: p, … (new)`, most changes first. */
  lines(): string[] {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([key, count]) => {
        const [rule, change] = key.split('\u0000');
        return `by rule: ${count} ${change}: ${rule}`;
      });
  }
}

/**
 * diff --old DIR --new DIR --requests FILE [--fail-on-change]: which sample requests change
 * decision between two policy versions (each DIR holds model.conf and *.csv). Prints one JSON
 * line per changed request, one `by rule:` line per rule line responsible for changes, and a
 * summary line.
 */
export const diffCommand: CliCommand = {
  name: 'diff',
  usage: 'diff --old DIR --new DIR --requests FILE [--fail-on-change]',
  summary: 'requests whose decision differs between two policy versions',
  flags: { old: { type: 'string' }, new: { type: 'string' }, requests: { type: 'string' }, 'fail-on-change': { type: 'boolean' } },
  async run(flags, out) {
    const { old: oldDir, new: newDir, requests: file } = flags;
    if (typeof oldDir !== 'string' || typeof newDir !== 'string' || typeof file !== 'string') {
      out.error('diff needs --old DIR --new DIR --requests FILE (each DIR holds model.conf and *.csv; FILE has one JSON request per line)');
      return 2;
    }
    const [before, after] = [await engineOrReportAll(policyIn(oldDir), out), await engineOrReportAll(policyIn(newDir), out)];
    let read;
    try {
      read = readRequests(file);
    } catch (err) {
      out.error(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return 2;
    }
    for (const problem of read.problems) out.error(problem);
    if (!before || !after || read.problems.length > 0) return 2;
    let changed = 0;
    const byRule = new RuleTally();
    for (const { line, ...query } of read.requests) {
      const was = verdict(before, query);
      const now = verdict(after, query);
      if (was.decision === now.decision) continue;
      changed++;
      byRule.add(was, now);
      out.log(JSON.stringify({ line, ...query, old: was.decision, new: now.decision, old_rule: was.rule, new_rule: now.rule }));
    }
    for (const summary of byRule.lines()) out.log(summary);
    out.log(`${read.requests.length} requests, ${changed} changed (policy ${before.version} → ${after.version})`);
    return changed > 0 && flags['fail-on-change'] ? 1 : 0;
  },
};
