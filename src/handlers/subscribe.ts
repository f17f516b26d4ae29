import { allow, fail } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import type { Handler, HandlerDeps } from './handler.js';

/** subscribe: allowed with namespace defaults (`{"result":{}}`) or refused with 403. */
export function subscribeHandler(deps: HandlerDeps): Handler<'subscribe'> {
  return async (request, ctx) =>
    (await channelAllowed(deps, request, 'subscribe', ctx)) ? allow({}) : fail(deps.config.codes.permission_denied);
}
