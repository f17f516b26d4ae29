import { allow, disconnect, fail, type Decision } from '../core/decision.js';
import { jsonPayload, type ConnectRequest, type ConnectResult, type JsonValue, type Payload } from '../core/messages.js';
import type { Identity } from '../auth/authenticator.js';
import { USER_PLACEHOLDER } from '../policy/object-pattern.js';
import { markStable } from '../core/stable-results.js';
import { ThrottledLog } from '../telemetry/throttled-log.js';
import type { PolicyQuery } from '../policy/engine.js';
import type { Handler, HandlerContext, HandlerDeps } from './handler.js';

/**
 * connect: who is this (token or anonymous), may they connect at all (policy `connect`), and
 * which server-side channels from `auth.channels` does the policy let them have.
 */
export function connectHandler(deps: HandlerDeps): Handler<'connect'> {
  const { codes, auth } = deps.config;
  const { limits } = deps;

  // One line per refusal reason every 10 s; the metrics count every refusal.
  const refusals = new ThrottledLog();
  // auth.channels split once at the user placeholder: a channel is then one join per request.
  const templates = auth.channels.map((template) => ({ parts: template.split(USER_PLACEHOLDER), perUser: template.includes(USER_PLACEHOLDER) }));
  const channelsOf = (user: string): string[] => {
    const channels: string[] = [];
    for (const { parts, perUser } of templates) if (!(perUser && user === '')) channels.push(perUser ? parts.join(user) : (parts[0] as string));
    return channels;
  };
  const queriesFor = (identity: Identity, channels: readonly string[]): PolicyQuery[] => [
    { user: identity.user, roles: identity.roles, action: 'connect', object: '' },
    ...channels.map((channel) => ({ user: identity.user, roles: identity.roles, action: 'subscribe', object: channel })),
  ];

  /**
   * A repeated token whose identity, revocation and every policy answer are in memory: answered
   * synchronously, with the slow path's answer. Anything unknown (or a revoked user, whose refusal
   * is logged there) returns undefined and the slow path decides from scratch. Not with rate
   * limits (their counters may wait on Redis) nor for a traced request (its span records tiers).
   */
  const connectNow = (request: ConnectRequest): Decision<ConnectResult> | undefined => {
    const identity = deps.authenticator.authenticateNow?.(request);
    if (!identity || deps.revocations.isRevokedNow?.(identity.user) !== false) return undefined;
    const channels = channelsOf(identity.user);
    // Connect refused: the channels are not asked (nor logged), as on the slow path.
    const verdicts = deps.decider.decideAllNow?.(queriesFor(identity, channels), (allowed, i) => i === 0 && !allowed);
    if (!verdicts) return undefined;
    if (!verdicts[0]?.allowed) return disconnect(codes.forbidden);
    return allow(connectResult(identity, channels.filter((_, i) => verdicts[i + 1]?.allowed === true)));
  };

  const connectLater = async (request: ConnectRequest, ctx: HandlerContext): Promise<Decision<ConnectResult>> => {
    // By address before the token check: a flood of connects must not buy signature checks.
    // Over the limit: a temporary error, so Centrifugo's SDKs retry with backoff (not a 45xx).
    if (limits && !(await limits.connectByAddress(request.headers, ctx))) return fail(codes.too_many_requests);
    const outcome = await deps.authenticator.authenticate(request, ctx.trace);
    let identity: Identity;
    switch (outcome.kind) {
      case 'authenticated':
        identity = outcome.identity;
        break;
      case 'expired':
        return disconnect(codes.token_expired);
      case 'keys_unavailable':
        // Our identity provider is unreachable: a temporary error, so clients retry with backoff
        // instead of giving up (a 45xx disconnect is terminal for Centrifugo's SDKs).
        ctx.log.warn('connect refused for now: signing keys unavailable (JWKS fetch failed)');
        deps.onKeysUnavailable?.();
        return fail(codes.keys_unavailable);
      case 'invalid':
        // Throttled: a client (or an attacker) sending bad tokens must not be able to flood the log.
        refusals.warn(`invalid ${outcome.reason}`, { reason: outcome.reason }, 'connect refused: invalid token', ctx.log);
        return disconnect(codes.unauthorized);
      case 'no_token':
        if (!auth.anonymous) return disconnect(codes.unauthorized);
        identity = { user: '', roles: [] };
        break;
    }

    const query: PolicyQuery = { user: identity.user, roles: identity.roles, action: 'connect', object: '' };
    const [verdict, revoked] = await Promise.all([deps.decider.decide(query, ctx.trace), deps.revocations.isRevoked(identity.user, ctx.trace)]);
    if (revoked) {
      refusals.warn('revoked', { user: identity.user }, 'connect refused: user revoked', ctx.log);
      return disconnect(codes.forbidden);
    }
    if (!verdict.allowed) return disconnect(codes.forbidden);
    // By user only now: the ID is trusted once the token is verified, and refusals take no slot.
    if (limits && !(await limits.connectByUser(identity.user, ctx))) return fail(codes.too_many_requests);

    const channels: string[] = [];
    for (const channel of channelsOf(identity.user)) {
      const verdict = await deps.decider.decide({ user: identity.user, roles: identity.roles, action: 'subscribe', object: channel }, ctx.trace);
      if (verdict.allowed) channels.push(channel);
    }
    return allow(connectResult(identity, channels));
  };

  return (request, ctx) => (limits || ctx.trace ? undefined : connectNow(request)) ?? connectLater(request, ctx);
}

/** What the answer takes from an identity, made once per identity (a cached one is the same object on every hit). */
interface IdentityParts {
  readonly info?: Payload;
  readonly meta?: JsonValue;
  /** The last answer made for this identity: a repeated connect with the same channels gets it again. */
  last?: { readonly channels: readonly string[]; readonly result: ConnectResult };
}
const partsOf = new WeakMap<Identity, IdentityParts>();

function identityParts(identity: Identity): IdentityParts {
  let parts = partsOf.get(identity);
  if (!parts) {
    parts = {
      ...(identity.info !== undefined ? { info: jsonPayload(identity.info) } : {}),
      ...(identity.roles.length > 0 ? { meta: { roles: [...identity.roles] } } : {}),
    };
    partsOf.set(identity, parts);
  }
  return parts;
}

const sameChannels = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((channel, i) => channel === b[i]);

/**
 * The answer for an identity and its allowed channels. The same identity object (a verified-token
 * hit) with the same channels gets the same frozen result, whose encoding the transports keep.
 */
function connectResult(identity: Identity, channels: string[]): ConnectResult {
  const parts = identityParts(identity);
  if (parts.last && sameChannels(parts.last.channels, channels)) return parts.last.result;
  const { info, meta } = parts;
  const result = markStable<ConnectResult>({
    user: identity.user,
    ...(identity.expireAt ? { expire_at: identity.expireAt } : {}),
    ...(info ? { info } : {}),
    ...(channels.length > 0 ? { channels } : {}),
    ...(meta ? { meta } : {}),
  });
  parts.last = { channels, result };
  return result;
}
