/**
 * What /api/token and /api/subscription-token decide, apart from HTTP: who the caller is (the
 * connect authenticator, so the same token sources, algorithms, claims and cache), whether they
 * are revoked, what the policy allows, and the claims Centrifugo reads from its tokens
 * (internal/jwtverify in Centrifugo v6.9.1: sub, exp, iat, info, meta, channels; subscription
 * tokens: sub, channel, exp, iat; aud/iss when client.token.audience/issuer are set).
 */
import type { Authenticator, Identity } from '../auth/authenticator.js';
import type { RevocationList } from '../auth/revocations.js';
import type { Config } from '../config/schema.js';
import type { ConnectRequest } from '../core/messages.js';
import type { Decider } from '../policy/decider.js';
import { USER_PLACEHOLDER } from '../policy/object-pattern.js';
import type { TraceContext } from '../telemetry/tracing.js';
import type { TokenSigner } from './signer.js';

export type Minted = { readonly kind: 'ok'; readonly user: string; readonly token: string; readonly expiresAt: number };

export type Refusal =
  /** 401: no token, a bad one, or an expired one (`reason` is safe to show: no token detail). */
  | { readonly kind: 'unauthorized'; readonly reason: string; readonly detail?: string }
  /** 403: revoked or the policy says no. */
  | { readonly kind: 'forbidden'; readonly user: string; readonly reason: string }
  /** 503: the identity provider's keys cannot be fetched. */
  | { readonly kind: 'unavailable'; readonly reason: string };

export type Authenticated = { readonly kind: 'authenticated'; readonly identity: Identity };

export interface MinterDeps {
  readonly config: Config;
  readonly authenticator: Authenticator;
  readonly decider: Decider;
  readonly revocations: RevocationList;
  readonly signer: TokenSigner;
  readonly now: () => number;
}

export class TokenMinter {
  constructor(private readonly deps: MinterDeps) {}

  /** The caller's user token, verified exactly as connect verifies it. */
  async authenticate(request: ConnectRequest, trace?: TraceContext): Promise<Authenticated | Refusal> {
    const outcome = await this.deps.authenticator.authenticate(request, trace);
    switch (outcome.kind) {
      case 'authenticated':
        return outcome;
      case 'no_token':
        return { kind: 'unauthorized', reason: 'missing token' };
      case 'expired':
        return { kind: 'unauthorized', reason: 'token expired' };
      case 'invalid':
        return { kind: 'unauthorized', reason: 'invalid token', detail: outcome.reason };
      case 'keys_unavailable':
        return { kind: 'unavailable', reason: 'keys unavailable' };
    }
  }

  /** A connection token when the user may connect: server-side channels are the auth.channels the policy lets them subscribe to. */
  async connectionToken(identity: Identity, trace?: TraceContext): Promise<Minted | Refusal> {
    const { user, roles } = identity;
    const [verdict, revoked] = await Promise.all([
      this.deps.decider.decide({ user, roles, action: 'connect', object: '' }, trace),
      this.deps.revocations.isRevoked(user, trace),
    ]);
    if (revoked) return { kind: 'forbidden', user, reason: 'user revoked' };
    if (!verdict.allowed) return { kind: 'forbidden', user, reason: 'policy denies connect' };
    const channels: string[] = [];
    for (const template of this.deps.config.auth.channels) {
      const channel = template.split(USER_PLACEHOLDER).join(user);
      if ((await this.deps.decider.decide({ user, roles, action: 'subscribe', object: channel }, trace)).allowed) channels.push(channel);
    }
    const { connection } = this.deps.config.token_mode;
    const { iat, exp } = this.lifetime(connection.lifetime, identity);
    const token = await this.deps.signer.sign({
      sub: user,
      iat,
      exp,
      ...(connection.audience ? { aud: connection.audience } : {}),
      ...(connection.issuer ? { iss: connection.issuer } : {}),
      ...(identity.info !== undefined ? { info: identity.info } : {}),
      // Roles travel as the proxy's connect answer carries them, so refresh, subscribe, publish
      // and rpc proxies (mixed mode) find them in the connection meta.
      ...(roles.length > 0 ? { meta: { roles: [...roles] } } : {}),
      ...(channels.length > 0 ? { channels } : {}),
    });
    return { kind: 'ok', user, token, expiresAt: exp };
  }

  /** A subscription token for one channel when the policy allows the user to subscribe to it. */
  async subscriptionToken(identity: Identity, channel: string, trace?: TraceContext): Promise<Minted | Refusal> {
    const { user, roles } = identity;
    const [verdict, revoked] = await Promise.all([
      this.deps.decider.decide({ user, roles, action: 'subscribe', object: channel }, trace),
      this.deps.revocations.isRevoked(user, trace),
    ]);
    if (revoked) return { kind: 'forbidden', user, reason: 'user revoked' };
    if (!verdict.allowed) return { kind: 'forbidden', user, reason: 'policy denies subscribe' };
    const { connection, subscription } = this.deps.config.token_mode;
    const { iat, exp } = this.lifetime(subscription.lifetime, identity);
    const token = await this.deps.signer.sign({
      sub: user,
      channel,
      iat,
      exp,
      ...(connection.audience ? { aud: connection.audience } : {}),
      ...(connection.issuer ? { iss: connection.issuer } : {}),
    });
    return { kind: 'ok', user, token, expiresAt: exp };
  }

  /** Now, and the configured lifetime cut short by the user token's own exp. */
  private lifetime(lifetimeMs: number, identity: Identity): { iat: number; exp: number } {
    const now = this.deps.now();
    const iat = Math.floor(now / 1000);
    const configured = Math.floor((now + lifetimeMs) / 1000);
    return { iat, exp: identity.expireAt === undefined ? configured : Math.min(configured, identity.expireAt) };
  }
}
