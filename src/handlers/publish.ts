import { allow, fail } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import type { Handler, HandlerDeps } from './handler.js';

/**
 * publish: an empty result publishes the client's payload unchanged (we never rewrite it). The
 * rate limit is asked only once the policy allows, so a refused publish takes no slot.
 */
export function publishHandler(deps: HandlerDeps): Handler<'publish'> {
  const { codes } = deps.config;
  const { limits } = deps;
  return async (request, ctx) => {
    if (!(await channelAllowed(deps, request, 'publish', ctx))) return fail(codes.permission_denied);
    if (limits && !(await limits.publish(request, ctx))) return fail(codes.too_many_requests);
    return allow({});
  };
}
