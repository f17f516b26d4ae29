import { allow, disconnect, fail, type Decision } from '../core/decision.js';
import { jsonPayload, type ConnectRequest, type ConnectResult } from '../core/messages.js';
import type { Identity } from '../auth/authenticator.js';
import { USER_PLACEHOLDER } from '../policy/object-pattern.js';
import { ThrottledLog } from '../telemetry/throttled-log.js';
import type { Handler, HandlerDeps } from './handler.js';

/**
 * connect: who is this (token or anonymous), may they connect at all (policy `connect`), and
 * which server-side channels from `auth.channels` does the policy let them have.
 */
export function connectHandler(deps: HandlerDeps): Handler<'connect'> {
  const { codes, auth } = deps.config;
  const { limits } = deps;

  // One line per refusal reason every 10 s; the metrics count every refusal.
  const refusals = new ThrottledLog();
  return async (request: ConnectRequest, ctx): Promise<Decision<ConnectResult>> => {
    // By address before the token check: a flood of connects must not buy signature checks.
    // Over the limit: a temporary error, so Centrifugo's SDKs retry with backoff (not a 45xx).
    if (limits && !(await limits.connectByAddress(request.headers, ctx))) return fail(codes.too_many_requests);
    const outcome = await deps.authenticator.authenticate(request, ctx.trace);
    let identity: Identity;
    switch (outcome.kind) {
      case 'authenticated':
        identity = outcome.identity;
        break;
      case 'expired':
        return disconnect(codes.token_expired);
      case 'keys_unavailable':
        // Our identity provider is unreachable: a temporary error, so clients retry with backoff
        // instead of giving up (a 45xx disconnect is terminal for Centrifugo's SDKs).
        ctx.log.warn('connect refused for now: signing keys unavailable (JWKS fetch failed)');
        deps.onKeysUnavailable?.();
        return fail(codes.keys_unavailable);
      case 'invalid':
        // Throttled: a client (or an attacker) sending bad tokens must not be able to flood the log.
        refusals.warn(`invalid ${outcome.reason}`, { reason: outcome.reason }, 'connect refused: invalid token', ctx.log);
        return disconnect(codes.unauthorized);
      case 'no_token':
        if (!auth.anonymous) return disconnect(codes.unauthorized);
        identity = { user: '', roles: [] };
        break;
    }

    const query = { user: identity.user, roles: identity.roles, action: 'connect', object: '' };
    const [verdict, revoked] = await Promise.all([deps.decider.decide(query, ctx.trace), deps.revocations.isRevoked(identity.user, ctx.trace)]);
    if (revoked) {
      refusals.warn('revoked', { user: identity.user }, 'connect refused: user revoked', ctx.log);
      return disconnect(codes.forbidden);
    }
    if (!verdict.allowed) return disconnect(codes.forbidden);
    // By user only now: the ID is trusted once the token is verified, and refusals take no slot.
    if (limits && !(await limits.connectByUser(identity.user, ctx))) return fail(codes.too_many_requests);

    const channels: string[] = [];
    for (const template of auth.channels) {
      if (template.includes(USER_PLACEHOLDER) && identity.user === '') continue;
      const channel = template.split(USER_PLACEHOLDER).join(identity.user);
      const verdict = await deps.decider.decide({ user: identity.user, roles: identity.roles, action: 'subscribe', object: channel }, ctx.trace);
      if (verdict.allowed) channels.push(channel);
    }

    return allow({
      user: identity.user,
      ...(identity.expireAt ? { expire_at: identity.expireAt } : {}),
      ...(identity.info !== undefined ? { info: jsonPayload(identity.info) } : {}),
      ...(channels.length > 0 ? { channels } : {}),
      ...(identity.roles.length > 0 ? { meta: { roles: [...identity.roles] } } : {}),
    });
  };
}
