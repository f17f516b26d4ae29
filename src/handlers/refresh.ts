import { allow } from '../core/decision.js';
import { rolesFromMeta } from '../policy/decider.js';
import { unixSeconds, type Handler, type HandlerDeps } from './handler.js';

/**
 * refresh: Centrifugo calls it when a connection's expire_at passes, without the token. The
 * connection lives on while the policy still allows both `connect` and `refresh` for the user
 * (so a deny line on `connect` also ends existing connections); refresh cannot return errors,
 * only `expired: true`.
 */
export function refreshHandler(deps: HandlerDeps): Handler<'refresh'> {
  return async (request) => {
    const roles = rolesFromMeta(request.meta);
    const ask = (action: string) => deps.decider.decide({ user: request.user, roles, action, object: '' });
    const stillAllowed = (await ask('connect')).allowed && (await ask('refresh')).allowed;
    if (!stillAllowed) return allow({ expired: true });
    return allow({ expire_at: unixSeconds(deps.now() + deps.config.auth.refresh_interval) });
  };
}
