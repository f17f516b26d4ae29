/** What a policy is asked, and what any policy engine answers. */
import type { PolicyRule, PolicySource } from './policy-source.js';

export interface PolicyQuery {
  /** User ID; "" for anonymous connections. */
  readonly user: string;
  /** Roles carried in connection meta (from the token); they behave like `g, user, role` lines. */
  readonly roles: readonly string[];
  readonly action: string;
  /** Channel for subscribe/publish/sub_refresh, method for rpc, "" for connect and refresh. */
  readonly object: string;
}

export interface Explanation {
  readonly allowed: boolean;
  /** The rules that decided: the matching deny lines, else the matching allow lines; empty when nothing matched. */
  readonly deciding: readonly PolicyRule[];
  /** Every `p` rule that matched the request, whatever its effect. */
  readonly matched: readonly PolicyRule[];
  readonly version: string;
}

export interface PolicyEngine {
  readonly version: string;
  /** "indexed", or "casbin (why the model cannot be indexed)": shown by `check`. */
  readonly evaluator: string;
  readonly source: PolicySource;
  /** Synchronous and side-effect free: safe on the hot path. */
  decide(query: PolicyQuery): boolean;
  explain(query: PolicyQuery): Explanation;
}

/** Implicit roles: every request is a member of exactly one of these, so policies can name them. */
export const ANONYMOUS_ROLE = 'anonymous';
export const AUTHENTICATED_ROLE = 'authenticated';
export const implicitRole = (user: string): string => (user === '' ? ANONYMOUS_ROLE : AUTHENTICATED_ROLE);

export interface EngineOptions {
  /** policy.role_prefixes: names with these prefixes are roles, never user IDs (role-names.ts). */
  readonly rolePrefixes?: readonly string[];
}
