import { rolesFromMeta } from '../policy/decider.js';
import type { JsonValue } from '../core/messages.js';
import type { TraceContext } from '../telemetry/tracing.js';
import type { HandlerContext, HandlerDeps } from './handler.js';

/**
 * The policy's answer when the in-process cache has it, without a promise; undefined: ask
 * channelAllowed. A traced request's span gets the same attributes as from channelAllowed.
 */
export function channelAllowedNow(
  deps: HandlerDeps,
  request: { user: string; meta?: JsonValue; channel: string },
  action: 'subscribe' | 'publish' | 'sub_refresh',
  trace?: TraceContext,
): boolean | undefined {
  return deps.decider.decideNow?.({ user: request.user, roles: rolesFromMeta(request.meta), action, object: request.channel }, trace)?.allowed;
}

/** The policy's answer for a channel event, with the connection's roles from meta. */
export async function channelAllowed(
  deps: HandlerDeps,
  request: { user: string; meta?: JsonValue; channel: string },
  action: 'subscribe' | 'publish' | 'sub_refresh',
  ctx: HandlerContext,
): Promise<boolean> {
  const roles = rolesFromMeta(request.meta);
  return (await deps.decider.decide({ user: request.user, roles, action, object: request.channel }, ctx.trace)).allowed;
}
