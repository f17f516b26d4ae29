import { allow, fail } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import type { Handler, HandlerDeps } from './handler.js';

/** publish: an empty result publishes the client's payload unchanged (we never rewrite it). */
export function publishHandler(deps: HandlerDeps): Handler<'publish'> {
  return async (request) =>
    (await channelAllowed(deps, request, 'publish')) ? allow({}) : fail(deps.config.codes.permission_denied);
}
