import { fail } from '../core/decision.js';
import { rolesFromMeta } from '../policy/decider.js';
import type { Handler, HandlerDeps } from './handler.js';

/**
 * rpc: policy first, so a denied call never reaches a backend and an unknown method is not
 * revealed to someone who may not call it; then the first matching route forwards it. The rate
 * limit counts only calls that would reach an upstream (allowed, routed).
 */
export function rpcHandler(deps: HandlerDeps): Handler<'rpc'> {
  const { codes } = deps.config;
  const { limits } = deps;
  return async (request, ctx) => {
    const roles = rolesFromMeta(request.meta);
    const verdict = await deps.decider.decide({ user: request.user, roles, action: 'rpc', object: request.method }, ctx.trace);
    if (!verdict.allowed) return fail(codes.permission_denied);
    const route = deps.rpc.find(request.method);
    if (!route) return fail(codes.method_not_found);
    if (limits && !(await limits.rpc(request, ctx))) return fail(codes.too_many_requests);
    return deps.rpc.forward(route, request, roles, ctx);
  };
}
