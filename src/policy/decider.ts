/**
 * The one place handlers ask the policy: current engine, decision cache and shadow mode.
 * Swapping the engine (reload) changes the version, and with it every cache key.
 */
import type { CacheTier, DecisionCache } from '../cache/decision-cache.js';
import type { JsonValue } from '../core/messages.js';
import { annotate, eventNotes, tracer, type TraceContext } from '../telemetry/tracing.js';
import type { DecisionLog } from './decision-log.js';
import type { PolicyEngine, PolicyQuery } from './engine.js';

export interface Verdict {
  /** What the answer to Centrifugo follows (always true in shadow mode). */
  readonly allowed: boolean;
  /** What the policy said. */
  readonly policyAllowed: boolean;
  readonly version: string;
  readonly cached: boolean;
  /** Which cache tier answered ("none": evaluated now). */
  readonly cacheTier: CacheTier;
}

export interface EngineHolder {
  current(): PolicyEngine;
}

export interface DeciderOptions {
  readonly mode: 'enforce' | 'shadow';
  /** A candidate policy evaluated beside the live one; it never changes an answer. */
  readonly candidate?: EngineHolder & { loaded(): boolean };
  readonly decisionLog?: DecisionLog;
  readonly onDisagreement?: (query: PolicyQuery, live: boolean, candidate: boolean, candidateVersion: string) => void;
}

/** What handlers ask; PolicyDecider is the implementation (tests may replace it). */
export interface Decider {
  decide(query: PolicyQuery, trace?: TraceContext): Promise<Verdict>;
  /**
   * The verdict when the in-process cache tier holds it, synchronously; undefined: ask decide().
   * `trace`: the event span is annotated as decide() annotates a memory hit.
   */
  decideNow?(query: PolicyQuery, trace?: TraceContext): Verdict | undefined;
  /**
   * Several questions at once, only when the in-process tier holds every answer (else undefined,
   * and nothing is recorded, so the caller can ask decide() without logging a decision twice).
   * Questions are asked in order and stop after the first for which `last` says so (given the
   * answer's `allowed`, what the verdict's will be); the later ones are neither needed nor recorded.
   */
  decideAllNow?(queries: readonly PolicyQuery[], last?: (allowed: boolean, index: number) => boolean): Verdict[] | undefined;
}

export class PolicyDecider implements Decider {
  constructor(
    private readonly engines: EngineHolder,
    private readonly cache: DecisionCache,
    private readonly options: DeciderOptions,
  ) {}

  /**
   * The policy's answer on the event span, cached or fresh, with the version and cache tier:
   * `policy.allowed.<action>` (false when any question of that action was denied) and
   * `policy.allowed` (false when any question of the event was: refresh asks connect and refresh,
   * connect also asks subscribe per server-side channel).
   */
  private annotateAnswer(trace: TraceContext, version: string, tier: CacheTier, action: string, allowed: boolean): void {
    // The event's answers so far (eventContext); a context made elsewhere: this answer alone.
    const byAction = eventNotes(trace) ?? new Map<string, boolean>();
    byAction.set(action, (byAction.get(action) ?? true) && allowed);
    const attributes: Record<string, string | boolean> = { 'policy.version': version, 'cache.tier': tier, 'policy.allowed': true };
    let all = true;
    for (const [name, ok] of byAction) {
      attributes[allowedAttribute(name)] = ok;
      all &&= ok;
    }
    attributes['policy.allowed'] = all;
    annotate(trace, attributes);
  }

  /** `trace`: the request's trace context (annotated with the version and cache tier; parent of evaluation spans). */
  async decide(query: PolicyQuery, trace?: TraceContext): Promise<Verdict> {
    const engine = this.engines.current();
    const key = cacheKey(engine.version, query);
    // With tracing on, an evaluation (a cache miss) is a child span; cache hits only annotate the event span.
    const evaluate = trace ? () => evaluateInSpan(engine, query, trace) : () => engine.decide(query);
    const { allowed: policyAllowed, tier } = await this.cache.lookup(key, evaluate, trace);
    if (trace) this.annotateAnswer(trace, engine.version, tier, query.action, policyAllowed);
    return this.verdict(query, engine, policyAllowed, tier, trace);
  }

  decideNow(query: PolicyQuery, trace?: TraceContext): Verdict | undefined {
    const engine = this.engines.current();
    const policyAllowed = this.cache.peek?.(cacheKey(engine.version, query));
    if (policyAllowed === undefined) return undefined;
    if (trace) this.annotateAnswer(trace, engine.version, 'memory', query.action, policyAllowed);
    return this.verdict(query, engine, policyAllowed, 'memory', trace);
  }

  decideAllNow(queries: readonly PolicyQuery[], last?: (allowed: boolean, index: number) => boolean): Verdict[] | undefined {
    const cache = this.cache;
    if (!cache.peek) return undefined;
    const engine = this.engines.current();
    const shadow = this.options.mode === 'shadow';
    // Every answer first: one missing and none is recorded.
    const answers: boolean[] = [];
    for (const query of queries) {
      const allowed = cache.peek(cacheKey(engine.version, query));
      if (allowed === undefined) return undefined;
      answers.push(allowed);
      if (last?.(shadow || allowed, answers.length - 1)) break;
    }
    return answers.map((allowed, i) => this.verdict(queries[i] as PolicyQuery, engine, allowed, 'memory'));
  }

  /** What every answer does once the policy's answer is known: decision log, candidate comparison, shadow mode. */
  private verdict(query: PolicyQuery, engine: PolicyEngine, policyAllowed: boolean, tier: CacheTier, trace?: TraceContext): Verdict {
    const shadow = this.options.mode === 'shadow';
    this.options.decisionLog?.record(query, policyAllowed, engine, shadow, trace);
    const candidate = this.options.candidate;
    if (candidate?.loaded()) {
      const other = candidate.current();
      const candidateAllowed = other.decide(query);
      if (candidateAllowed !== policyAllowed) this.options.onDisagreement?.(query, policyAllowed, candidateAllowed, other.version);
    }
    return { allowed: shadow ? true : policyAllowed, policyAllowed, version: engine.version, cached: tier !== 'none', cacheTier: tier };
  }
}

/** `policy.allowed.<action>`, made once per action (handlers ask the six event actions) rather than per answer. */
const allowedAttributes = new Map<string, string>();
function allowedAttribute(action: string): string {
  let name = allowedAttributes.get(action);
  if (name === undefined) allowedAttributes.set(action, (name = `policy.allowed.${action}`));
  return name;
}

/** One policy evaluation as a child span of the request's. */
function evaluateInSpan(engine: PolicyEngine, query: PolicyQuery, trace: TraceContext): boolean {
  const span = tracer().startSpan('policy.evaluate', { attributes: { 'policy.version': engine.version, 'policy.action': query.action, 'policy.evaluator': engine.evaluator } }, trace);
  try {
    const allowed = engine.decide(query);
    span.setAttribute('policy.allowed', allowed);
    return allowed;
  } finally {
    span.end();
  }
}

/** Between the key's fields; no plain field holds it. */
const FIELD = '\u001f';
/** Starts every escaped key; no plain key does (a plain version cannot hold it either). */
const ESCAPED = '\u001e';
/**
 * Fields that would make a plain key ambiguous (the two markers) or collide in Redis (a UTF-16
 * surrogate: written as UTF-8, every lone one becomes U+FFFD). Pairs are escaped too: rare, and
 * one rule is simpler to trust.
 */
// eslint-disable-next-line no-control-regex -- the markers are control characters on purpose
const NEEDS_ESCAPE = /[\u001e\u001f\ud800-\udfff]/;

/**
 * The decision's cache key (memory and Redis): version, action, user, object, then the sorted
 * roles, joined by U+001F; roles go last, so the four fixed fields before them split the key
 * back unambiguously. A field holding a marker or a surrogate makes the whole key U+001E and
 * the JSON of the fields, which escapes both (no plain key starts with U+001E). A join costs a
 * fraction of the JSON.stringify every key used to be, and it is built on every request.
 */
export function cacheKey(version: string, query: PolicyQuery): string {
  const roles = query.roles.length > 1 ? [...query.roles].sort() : query.roles;
  if (!(plain(version) && plain(query.action) && plain(query.user) && plain(query.object) && roles.every(plain))) {
    return ESCAPED + JSON.stringify([version, query.action, query.user, query.object, roles]);
  }
  let key = version + FIELD + query.action + FIELD + query.user + FIELD + query.object;
  for (const role of roles) key += FIELD + role;
  return key;
}

function plain(field: string): boolean {
  return !NEEDS_ESCAPE.test(field);
}

export function rolesFromMeta(meta: JsonValue | undefined): string[] {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return [];
  const roles = meta.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string' && r !== '') : [];
}
