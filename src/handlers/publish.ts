import { allow, fail } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import type { Handler, HandlerDeps } from './handler.js';

/** publish: an empty result publishes the client's payload unchanged (we never rewrite it). */
export function publishHandler(deps: HandlerDeps): Handler<'publish'> {
  return async (request, ctx) =>
    (await channelAllowed(deps, request, 'publish', ctx)) ? allow({}) : fail(deps.config.codes.permission_denied);
}
