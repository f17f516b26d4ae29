/**
 * Holds the live policy engine. Loading reads the files, builds a complete engine off to the
 * side and runs the policy test cases against it; only a policy that passes is swapped in, so
 * a request always sees one whole, tested policy version and a bad edit changes nothing.
 */
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { CasbinEngine } from './casbin-engine.js';
import type { PolicyEngine } from './engine.js';
import { IndexedEngine } from './indexed-engine.js';
import { modelShape } from './model-shape.js';
import { lintPolicyInSlices } from './lint.js';
import { loadPolicySource, PolicySourceError } from './policy-source.js';
import { allSourceProblems } from './source-problems.js';
import { FileWatcher } from '../core/file-watcher.js';
import { describeFailure, testCaseLoadSteps, testCaseSteps } from './test-cases.js';
import { runInSlices } from './time-slices.js';

export interface PolicyPaths {
  readonly model: string;
  readonly policy: string;
  /** Test cases every new policy must pass before it goes live ("" for none). */
  readonly tests?: string;
  /** policy.role_prefixes: names that are roles, never user IDs (role-names.ts). */
  readonly role_prefixes?: readonly string[];
  /** policy.strict: a policy with lint problems is refused, not only warned about. */
  readonly strict?: boolean;
}

/** The indexed engine when the model has the default shape, else plain casbin (model-shape.ts). */
export async function buildEngine(paths: PolicyPaths): Promise<PolicyEngine> {
  const source = await loadPolicySource(paths.model, paths.policy);
  const shape = modelShape(source.modelText);
  const options = { rolePrefixes: paths.role_prefixes };
  return shape.indexable ? IndexedEngine.build(source, options) : CasbinEngine.build(source, shape.reason, options);
}

export class PolicyRejected extends Error {}

export interface TestedEngine {
  readonly engine: PolicyEngine;
  /** Lint problems (lint.ts): logged as warnings, or the reason for refusal with `strict`. */
  readonly warnings: readonly string[];
}

/**
 * Builds the engine, runs the test cases and lint; throws PolicyRejected with one line per problem.
 * Every long step yields to the event loop now and then (time-slices.ts): requests are answered
 * from the live policy while a large one loads.
 */
export async function buildTestedEngine(paths: PolicyPaths): Promise<TestedEngine> {
  let engine: PolicyEngine;
  try {
    engine = await buildEngine(paths);
  } catch (err) {
    if (err instanceof PolicySourceError) throw new PolicyRejected(allSourceProblems(paths.model, paths.policy, err).join('; '));
    throw err;
  }
  if (paths.tests) {
    const { cases, problems } = await runInSlices(testCaseLoadSteps(paths.tests));
    const failures = (await runInSlices(testCaseSteps(engine, cases))).filter((o) => !o.passed).map(describeFailure);
    const all = [...problems, ...failures];
    if (all.length > 0) throw new PolicyRejected(`${all.length} policy test problem(s): ${all.slice(0, 5).join('; ')}`);
  }
  const warnings = await lintPolicyInSlices(engine.source, paths.role_prefixes);
  if (paths.strict && warnings.length > 0) {
    throw new PolicyRejected(`${warnings.length} lint problem(s) and policy.strict is on: ${warnings.slice(0, 5).join('; ')}`);
  }
  return { engine, warnings };
}

export type ReloadOutcome =
  | { readonly result: 'loaded' | 'unchanged'; readonly version: string }
  | { readonly result: 'failed'; readonly error: string; readonly version?: string };

export interface ReloadFailure {
  readonly at: string;
  readonly error: string;
}

export class PolicyStore {
  private engine: PolicyEngine | undefined;
  private readonly listeners: Array<(engine: PolicyEngine) => void> = [];
  private readonly reloadListeners: Array<(outcome: ReloadOutcome, reason: string) => void> = [];
  private failure: ReloadFailure | undefined;
  private running: Promise<ReloadOutcome> | undefined;
  private again = false;
  private watcher: FileWatcher | undefined;

  constructor(
    private readonly paths: PolicyPaths,
    private readonly log: Logger,
  ) {}

  /** The first load: throws PolicyRejected (and serves nothing) when the policy is not valid. */
  async load(): Promise<PolicyEngine> {
    const { engine, warnings } = await buildTestedEngine(this.paths);
    this.swap(engine, warnings);
    return engine;
  }

  /**
   * Re-reads the files. Never throws: a failure keeps the last good policy, is logged once and
   * kept for /readyz until a later reload succeeds. Reloads never overlap; a change during one
   * triggers one more afterwards.
   */
  reload(reason: string): Promise<ReloadOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reloadOnce(reason).finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.reload(reason);
      }
    });
    return this.running;
  }

  private async reloadOnce(reason: string): Promise<ReloadOutcome> {
    let outcome: ReloadOutcome;
    try {
      const { engine, warnings } = await buildTestedEngine(this.paths);
      const changed = engine.version !== this.engine?.version;
      if (changed) this.swap(engine, warnings);
      this.failure = undefined;
      outcome = { result: changed ? 'loaded' : 'unchanged', version: engine.version };
    } catch (err) {
      const error = err instanceof PolicyRejected ? err.message : `unexpected: ${(err as Error).message}`;
      this.failure = { at: new Date().toISOString(), error };
      this.log.error({ reason, error, policy_version: this.engine?.version }, 'policy reload refused; the last good policy stays live');
      outcome = { result: 'failed', error, version: this.engine?.version };
    }
    for (const listener of this.reloadListeners) listener(outcome, reason);
    return outcome;
  }

  private swap(engine: PolicyEngine, warnings: readonly string[]): void {
    const previous = this.engine?.version;
    this.engine = engine;
    if (previous === engine.version) return;
    this.log.info({ policy_version: engine.version, previous_version: previous, rules: engine.source.rules.length, evaluator: engine.evaluator }, 'policy loaded');
    if (warnings.length > 0) this.log.warn({ policy_version: engine.version, warnings }, `policy has ${warnings.length} lint problem(s) (policy.strict: true refuses such a policy)`);
    for (const listener of this.listeners) listener(engine);
  }

  /** Reloads on every change of the model, the policy file(s) or the test cases. */
  watch(debounceMs: number): void {
    if (this.watcher) return;
    const files = [this.paths.model];
    const folders: string[] = [];
    for (const path of [this.paths.policy, this.paths.tests ?? '']) {
      if (path === '' || !existsSync(path)) continue;
      if (statSync(path).isDirectory()) folders.push(path);
      else files.push(path);
    }
    this.watcher = new FileWatcher(files, folders, debounceMs, () => void this.reload('files changed'));
    this.watcher.start();
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  onChange(listener: (engine: PolicyEngine) => void): void {
    this.listeners.push(listener);
  }

  onReload(listener: (outcome: ReloadOutcome, reason: string) => void): void {
    this.reloadListeners.push(listener);
  }

  lastFailure(): ReloadFailure | undefined {
    return this.failure;
  }

  loaded(): boolean {
    return this.engine !== undefined;
  }

  current(): PolicyEngine {
    if (!this.engine) throw new Error('policy not loaded');
    return this.engine;
  }
}
