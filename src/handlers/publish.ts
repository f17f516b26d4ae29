import { allow, fail } from '../core/decision.js';
import { channelAllowed, channelAllowedNow } from './channel-access.js';
import type { Handler, HandlerDeps } from './handler.js';

/**
 * publish: an empty result publishes the client's payload unchanged (we never rewrite it). The
 * rate limit is asked only once the policy allows, so a refused publish takes no slot.
 */
export function publishHandler(deps: HandlerDeps): Handler<'publish'> {
  const { codes } = deps.config;
  const { limits } = deps;
  // Shared by every request: frozen, so nothing downstream can change one request's answer.
  const allowed = Object.freeze(allow({}));
  const denied = Object.freeze(fail(codes.permission_denied));
  const decideLater: Handler<'publish'> = async (request, ctx) => {
    if (!(await channelAllowed(deps, request, 'publish', ctx))) return denied;
    if (limits && !(await limits.publish(request, ctx))) return fail(codes.too_many_requests);
    return allowed;
  };
  // A decision in the in-process cache is answered synchronously, as subscribe does (traced or
  // not); not with rate limits (their counters may wait on Redis).
  return (request, ctx) => {
    const known = limits ? undefined : channelAllowedNow(deps, request, 'publish', ctx.trace);
    if (known === undefined) return decideLater(request, ctx);
    return known ? allowed : denied;
  };
}
