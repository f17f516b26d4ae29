import { allow } from '../core/decision.js';
import { channelAllowed } from './channel-access.js';
import { unixSeconds, type Handler, type HandlerDeps } from './handler.js';

/** sub_refresh: extend while the policy still allows `sub_refresh`, else `expired: true` (never an error). */
export function subRefreshHandler(deps: HandlerDeps): Handler<'sub_refresh'> {
  return async (request, ctx) =>
    (await channelAllowed(deps, request, 'sub_refresh', ctx))
      ? allow({ expire_at: unixSeconds(deps.now() + deps.config.auth.refresh_interval) })
      : allow({ expired: true });
}
