/** Who a connection belongs to. Implementations: JWT (auth/jwt-authenticator.ts), tokenless. */
import type { ConnectRequest, JsonValue } from '../core/messages.js';
import type { TraceContext } from '../telemetry/tracing.js';

export interface Identity {
  readonly user: string;
  /** Roles from the token; carried in connection meta so later events need no token. */
  readonly roles: readonly string[];
  /** Unix seconds; the token's `exp`. */
  readonly expireAt?: number;
  readonly info?: JsonValue;
}

export type AuthOutcome =
  | { readonly kind: 'authenticated'; readonly identity: Identity }
  /** No token in any configured source. */
  | { readonly kind: 'no_token' }
  /** A token was found but is not acceptable; `reason` is for logs only, never sent to clients. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'expired' }
  /** The signing key cannot be had because the identity provider's key set could not be fetched: our outage, not the token's fault. */
  | { readonly kind: 'keys_unavailable' };

export interface Authenticator {
  /** `trace`: the request's trace context, parent of the verification span. */
  authenticate(request: ConnectRequest, trace?: TraceContext): Promise<AuthOutcome>;
  /**
   * The identity when it is known without waiting (a token verified before, still in the
   * in-process tier and not expired), synchronously; undefined: call authenticate().
   */
  authenticateNow?(request: ConnectRequest): Identity | undefined;
}
