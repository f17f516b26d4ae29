import { allow, fail } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import { unixSeconds, type Handler, type HandlerDeps } from './handler.js';

/**
 * subscribe: allowed or refused with 403. With `auth.subscription_lifetime` set, an allowed
 * subscription carries `expire_at`, so Centrifugo calls sub_refresh once it passes and the
 * policy (and the user's revocation) is asked again; without it the subscription never expires
 * and lives on namespace defaults (`{"result":{}}`).
 */
export function subscribeHandler(deps: HandlerDeps): Handler<'subscribe'> {
  const lifetime = deps.config.auth.subscription_lifetime;
  return async (request, ctx) => {
    if (!(await channelAllowed(deps, request, 'subscribe', ctx))) return fail(deps.config.codes.permission_denied);
    return allow(lifetime > 0 ? { expire_at: unixSeconds(deps.now() + lifetime) } : {});
  };
}
