import { allow } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import { unixSeconds, type Handler, type HandlerDeps } from './handler.js';

/**
 * sub_refresh: Centrifugo calls it once a subscription's expire_at has passed (set by subscribe
 * with `auth.subscription_lifetime`, or by a subscription token). The subscription lives on while
 * the user is not revoked and the policy still allows `sub_refresh` on the channel; otherwise
 * `expired: true` (never an error: Centrifugo ignores errors here). The extension is
 * `auth.subscription_lifetime`, or `auth.refresh_interval` when that is off.
 */
export function subRefreshHandler(deps: HandlerDeps): Handler<'sub_refresh'> {
  const { subscription_lifetime, refresh_interval } = deps.config.auth;
  const extension = subscription_lifetime > 0 ? subscription_lifetime : refresh_interval;
  return async (request, ctx) => {
    const [allowed, revoked] = await Promise.all([channelAllowed(deps, request, 'sub_refresh', ctx), deps.revocations.isRevoked(request.user, ctx.trace)]);
    if (revoked || !allowed) return allow({ expired: true });
    return allow({ expire_at: unixSeconds(deps.now() + extension) });
  };
}
