import { allow } from '../core/decision.js';
import { rolesFromMeta } from '../policy/decider.js';
import { unixSeconds, type Handler, type HandlerDeps } from './handler.js';

/**
 * refresh: Centrifugo calls it when a connection's expire_at passes, without the token. The
 * connection lives on while the user is not revoked (auth/revocations.ts) and the policy still
 * allows both `connect` and `refresh` (so a deny line on `connect` also ends existing
 * connections); refresh cannot return errors, only `expired: true`.
 */
export function refreshHandler(deps: HandlerDeps): Handler<'refresh'> {
  return async (request, ctx) => {
    const roles = rolesFromMeta(request.meta);
    const ask = (action: string) => deps.decider.decide({ user: request.user, roles, action, object: '' }, ctx.trace);
    const [connect, refresh, revoked] = await Promise.all([ask('connect'), ask('refresh'), deps.revocations.isRevoked(request.user, ctx.trace)]);
    if (revoked || !connect.allowed || !refresh.allowed) return allow({ expired: true });
    return allow({ expire_at: unixSeconds(deps.now() + deps.config.auth.refresh_interval) });
  };
}
