import { allow } from '../core/decision.js';
import { channelAllowed, channelAllowedNow } from './channel-access.js';
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
  // Shared by every expired answer: frozen, so nothing downstream can change one request's answer.
  const expired = Object.freeze(allow(Object.freeze({ expired: true })));
  const answer = (allowed: boolean, revoked: boolean) => (revoked || !allowed ? expired : allow({ expire_at: unixSeconds(deps.now() + extension) }));
  const decideLater: Handler<'sub_refresh'> = async (request, ctx) => {
    const [allowed, revoked] = await Promise.all([channelAllowed(deps, request, 'sub_refresh', ctx), deps.revocations.isRevoked(request.user, ctx.trace)]);
    return answer(allowed, revoked);
  };
  // Both answers in memory (the decision in the in-process cache, the revocation mirror): answered
  // synchronously; a traced request takes the async path, whose span records the cache tier.
  return (request, ctx) => {
    if (ctx.trace) return decideLater(request, ctx);
    const revoked = deps.revocations.isRevokedNow?.(request.user);
    const allowed = revoked === undefined ? undefined : channelAllowedNow(deps, request, 'sub_refresh');
    return allowed === undefined || revoked === undefined ? decideLater(request, ctx) : answer(allowed, revoked);
  };
}
