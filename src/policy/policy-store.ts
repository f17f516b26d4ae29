/**
 * Holds the live policy engine. Loading builds and validates a complete engine off to the side;
 * only then is it swapped in, so a request always sees one whole policy version.
 */
import type { Logger } from 'pino';
import { CasbinEngine } from './casbin-engine.js';
import { IndexedEngine } from './indexed-engine.js';
import { modelShape } from './model-shape.js';
import type { PolicyEngine } from './engine.js';
import { loadPolicySource } from './policy-source.js';

export interface PolicyPaths {
  readonly model: string;
  readonly policy: string;
}

/** The indexed engine when the model has the default shape, else plain casbin (model-shape.ts). */
export async function buildEngine(paths: PolicyPaths): Promise<PolicyEngine> {
  const source = await loadPolicySource(paths.model, paths.policy);
  const shape = modelShape(source.modelText);
  return shape.indexable ? IndexedEngine.build(source) : CasbinEngine.build(source, shape.reason);
}

export class PolicyStore {
  private engine: PolicyEngine | undefined;
  private readonly listeners: Array<(engine: PolicyEngine) => void> = [];

  constructor(
    private readonly paths: PolicyPaths,
    private readonly log: Logger,
  ) {}

  /** Loads the files; throws (and keeps the previous engine) when they are not valid. */
  async load(): Promise<PolicyEngine> {
    const engine = await buildEngine(this.paths);
    const previous = this.engine?.version;
    this.engine = engine;
    if (previous !== engine.version) {
      this.log.info({ policy_version: engine.version, rules: engine.source.rules.length }, 'policy loaded');
      for (const listener of this.listeners) listener(engine);
    }
    return engine;
  }

  onChange(listener: (engine: PolicyEngine) => void): void {
    this.listeners.push(listener);
  }

  loaded(): boolean {
    return this.engine !== undefined;
  }

  current(): PolicyEngine {
    if (!this.engine) throw new Error('policy not loaded');
    return this.engine;
  }
}
