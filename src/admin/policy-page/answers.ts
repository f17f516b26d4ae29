/**
 * What the policy page's JSON API answers, from the live policy store, the candidate and the
 * disagreement ring. Read-only: nothing here loads, reloads or changes a policy.
 */
import type { Config } from '../../config/schema.js';
import type { DisagreementRing } from '../../policy/disagreements.js';
import type { PolicyEngine } from '../../policy/engine.js';
import { explainReport, rolesList, ruleJson } from '../../policy/explain-report.js';
import { lintPolicyInSlices } from '../../policy/lint.js';
import type { ReloadFailure } from '../../policy/policy-store.js';
import { testCaseLoadSteps, testCaseSteps } from '../../policy/test-cases.js';
import { describeCoverage, ruleCoverage } from '../../policy/test-coverage.js';
import { testReport } from '../../policy/test-report.js';
import { runInSlices } from '../../policy/time-slices.js';

export interface EngineSource {
  loaded(): boolean;
  current(): PolicyEngine;
}

export interface AnswerDeps {
  readonly policy: EngineSource & { lastFailure(): ReloadFailure | undefined };
  readonly candidate?: EngineSource;
  readonly disagreements: DisagreementRing;
  readonly policyConfig: Config['policy'];
}

/** A refusal the page shows as is (400): the question was incomplete. */
export class BadQuestion extends Error {}

export class PolicyPageAnswers {
  /** Per engine: the rule list and lint warnings (a large policy is not re-linted per page view). */
  private readonly described = new WeakMap<PolicyEngine, Promise<{ rules: ReturnType<typeof ruleJson>[]; warnings: string[] }>>();

  constructor(private readonly deps: AnswerDeps) {}

  /** Lint runs in time slices (time-slices.ts): the page's first look at a large policy does not stall decisions. */
  async policy() {
    const engine = this.deps.policy.current();
    let describing = this.described.get(engine);
    if (!describing) {
      describing = lintPolicyInSlices(engine.source, this.deps.policyConfig.role_prefixes).then((warnings) => ({ rules: engine.source.rules.map(ruleJson), warnings }));
      this.described.set(engine, describing);
      // A failed description is not kept: the next view tries again.
      describing.catch(() => this.described.delete(engine));
    }
    const described = await describing;
    const failure = this.deps.policy.lastFailure();
    return {
      policy_version: engine.version,
      evaluator: engine.evaluator,
      mode: this.deps.policyConfig.mode,
      model_file: engine.source.modelFile,
      files: engine.source.files,
      rules: described.rules,
      warnings: described.warnings,
      last_reload_error: failure ? { at: failure.at, error: failure.error } : null,
      candidate_version: this.candidateVersion(),
    };
  }

  /** The same document as `explain --json` for the same question. */
  explain(params: URLSearchParams) {
    const field = (name: string): string => {
      const value = params.get(name);
      if (value === null) throw new BadQuestion(`${name} is required (user may be "" for anonymous, object "" for connect and refresh)`);
      return value;
    };
    const query = { user: field('user'), roles: rolesList(params.get('roles') ?? ''), action: field('action'), object: field('object') };
    return explainReport(this.deps.policy.current(), query, this.deps.policyConfig.role_prefixes);
  }

  /** The same document as `test --json --coverage`, plus the coverage report's text lines. */
  async tests() {
    const engine = this.deps.policy.current();
    const { cases, problems } = await runInSlices(testCaseLoadSteps(this.deps.policyConfig.tests));
    const outcomes = await runInSlices(testCaseSteps(engine, cases));
    const coverage = ruleCoverage(engine, cases);
    return { ...testReport(engine, outcomes, problems, coverage), coverage_lines: describeCoverage(coverage, cases.length) };
  }

  disagreements() {
    const ring = this.deps.disagreements;
    return { candidate_version: this.candidateVersion(), capacity: ring.capacity, total: ring.total(), disagreements: ring.latest() };
  }

  private candidateVersion(): string | null {
    const candidate = this.deps.candidate;
    return candidate?.loaded() ? candidate.current().version : null;
  }
}
