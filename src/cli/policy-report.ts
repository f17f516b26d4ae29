/** Building the policy for a CLI command, with every problem of a policy that does not load. */
import type { PolicyEngine } from '../policy/engine.js';
import { PolicySourceError } from '../policy/policy-source.js';
import { buildEngine, type PolicyPaths } from '../policy/policy-store.js';
import { allSourceProblems } from '../policy/source-problems.js';
import type { Out } from './command.js';

/** The engine, or undefined after printing one line per problem (file:line: what is wrong). */
export async function engineOrReportAll(paths: PolicyPaths, out: Out): Promise<PolicyEngine | undefined> {
  try {
    return await buildEngine(paths);
  } catch (err) {
    if (!(err instanceof PolicySourceError)) throw err;
    for (const problem of allSourceProblems(paths.model, paths.policy, err)) out.error(problem);
    return undefined;
  }
}
