import { allow, fail } from '../core/decision.js';
import { channelAllowed, channelAllowedNow } from './channel-access.js';
import { unixSeconds, type Handler, type HandlerDeps } from './handler.js';

/**
 * subscribe: allowed or refused with 403. With `auth.subscription_lifetime` set, an allowed
 * subscription carries `expire_at`, so Centrifugo calls sub_refresh once it passes and the
 * policy (and the user's revocation) is asked again; without it the subscription never expires
 * and lives on namespace defaults (`{"result":{}}`).
 */
export function subscribeHandler(deps: HandlerDeps): Handler<'subscribe'> {
  const lifetime = deps.config.auth.subscription_lifetime;
  const answer = (allowed: boolean) =>
    allowed ? allow(lifetime > 0 ? { expire_at: unixSeconds(deps.now() + lifetime) } : {}) : fail(deps.config.codes.permission_denied);
  // A decision in the in-process cache is answered synchronously, traced or not (the span gets
  // the cache tier and policy version either way).
  return (request, ctx) => {
    const known = channelAllowedNow(deps, request, 'subscribe', ctx.trace);
    return known === undefined ? channelAllowed(deps, request, 'subscribe', ctx).then(answer) : answer(known);
  };
}
