/**
 * The config file's schema: the zod schema is the config type. Durations and sizes are
 * converted to numbers here, once, so nothing re-parses them per request.
 */
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

const duration = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a duration like "900ms", "30s" or "5m", got "${value}"` });
      return z.NEVER;
    }
    return ms;
  });

const size = z.union([z.string(), z.number().int().positive()]).transform((value, ctx) => {
  const bytes = typeof value === 'number' ? value : parseSize(value);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a size like "64kb" or "1mb", got "${value}"` });
    return z.NEVER;
  }
  return bytes;
});

const port = z.coerce.number().int().min(0).max(65535);
const errorCode = z.number().int().min(400).max(1999);
const disconnectCode = z.number().int().min(4000).max(4999);

const errorAnswer = (code: number, message: string, temporary = false) =>
  z
    .object({ code: errorCode.default(code), message: z.string().min(1).default(message), temporary: z.boolean().default(temporary) })
    .strict()
    .default({});

const disconnectAnswer = (code: number, reason: string) =>
  z
    .object({
      code: disconnectCode.default(code),
      // Centrifugo documents close reasons of at most 32 bytes.
      reason: z
        .string()
        .min(1)
        .refine((r) => Buffer.byteLength(r) <= 32, 'must be at most 32 bytes')
        .default(reason),
    })
    .strict()
    .default({});

/** One limit: `limit` requests in any `window` (at least 1s, at most 1 day). */
const rateLimit = <T extends z.ZodRawShape>(shape: T) =>
  z
    .object({
      ...shape,
      limit: z.number({ required_error: 'required: the requests allowed per window' }).int().positive(),
      window: z
        .custom<string | number>((value) => value !== undefined, 'required: a duration like "10s" or "1m"')
        .pipe(duration)
        .refine((ms) => ms >= 1000 && ms <= 86_400_000, 'must be between 1s and 24h'),
    })
    .strict();

const tokenSource = z
  .string()
  .regex(/^(data\.[A-Za-z0-9_]+|header:[A-Za-z0-9-]+|cookie:[A-Za-z0-9_.-]+)$/, 'expected data.FIELD, header:NAME or cookie:NAME');

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'] as const;

export const configSchema = z
  .object({
    http: z
      .object({
        port: port.default(3000),
        host: z.string().default('0.0.0.0'),
        base_path: z
          .string()
          .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must be empty or start with "/" and not end with "/"')
          .default('/centrifugo'),
        body_limit: size.default('64kb'),
        /**
         * Slow clients (slowloris): a request's headers must arrive within headers_timeout of its
         * first byte (or of the connection opening), and the whole request, body included, within
         * request_timeout; otherwise the connection is closed (408). Idle keep-alive connections
         * between requests are not affected (Centrifugo keeps them for reuse).
         */
        headers_timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default('10s'),
        request_timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default('30s'),
        /** Open connections at most; more are closed at once, those already open are untouched. 0: no limit. */
        max_connections: z.number().int().min(0).default(5000),
      })
      .strict()
      .default({}),
    /**
     * Admin endpoints (/metrics and the detailed /readyz) on their own listener, so the proxy
     * port exposes only the proxy endpoints, /healthz and a bare /readyz. Off: all on http.port.
     */
    admin: z
      .object({
        enabled: z.boolean().default(false),
        host: z.string().default('0.0.0.0'),
        port: port.default(9090),
      })
      .strict()
      .default({}),
    grpc: z
      .object({
        enabled: z.boolean().default(true),
        port: port.default(50051),
        host: z.string().default('0.0.0.0'),
        max_message_size: size.default('4mb'),
        /**
         * Centrifugo keeps one long-lived GRPC connection per proxy object, so replicas added
         * behind a connection-level balancer would never see its traffic. Closing each
         * connection after this age (GOAWAY; calls in flight get max_connection_age_grace) makes
         * Centrifugo reconnect and spread over the replicas again. 0: never.
         */
        max_connection_age: duration.default('5m'),
        max_connection_age_grace: duration.default('30s'),
        /**
         * A connection must finish TLS (when configured) and send the HTTP/2 preface within this,
         * else it is closed; Centrifugo does both within milliseconds of connecting.
         */
        handshake_timeout: duration.default('10s'),
        /** Open connections at once (0: no cap); Centrifugo holds one or a few per node. */
        max_connections: z.number().int().min(0).default(1000),
        tls: z
          .object({ cert: z.string().default(''), key: z.string().default(''), client_ca: z.string().default('') })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    server: z
      .object({
        /** Bound on one decision (not rpc, which has route timeouts): below Centrifugo's 1s proxy timeout. */
        decision_timeout: duration.default('900ms'),
        /** How long SIGTERM waits for in-flight requests. */
        drain_timeout: duration.default('10s'),
      })
      .strict()
      .default({}),
    caller_auth: z
      .object({
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/)
          .transform((h) => h.toLowerCase())
          .default('x-proxy-secret'),
        /**
         * One secret, or several while rotating (add the new one, roll Centrifugo, remove the old):
         * any of them is accepted. Empty entries (an unset `${PROXY_SECRET_OLD:-}`) are ignored.
         */
        secret: z.union([z.string(), z.array(z.string())]).default(''),
      })
      .strict()
      .default({}),
    auth: z
      .object({
        token_sources: z.array(tokenSource).min(1).default(['data.token', 'header:authorization', 'cookie:access_token']),
        jwt: z
          .object({
            algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['RS256', 'ES256', 'EdDSA']),
            issuer: z.string().default(''),
            audience: z.string().default(''),
            jwks_url: z.string().default(''),
            /**
             * One JWKS fetch's bound. A connect waits for a fetch only within its decision
             * deadline (2/3 of server.decision_timeout), then answers keys_unavailable (503,
             * temporary) while the fetch goes on in the background for the next connect.
             */
            jwks_timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default('10s'),
            jwks_file: z.string().default(''),
            public_key_file: z.string().default(''),
            hmac_secret: z.string().default(''),
            clock_tolerance: duration.default('5s'),
            max_token_bytes: z.number().int().positive().default(8192),
            /** Refuse tokens without `exp` (4501): such a token would otherwise be good forever. */
            require_exp: z.boolean().default(true),
            /** With require_exp off: a connection from a token without `exp` expires (and refresh re-checks) after this. */
            max_lifetime: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default('1h'),
          })
          .strict()
          .default({}),
        claims: z
          .object({
            user: z.string().min(1).default('sub'),
            roles: z.string().default('roles'),
            info: z.array(z.string()).default([]),
          })
          .strict()
          .default({}),
        anonymous: z.boolean().default(false),
        /** How far refresh and sub_refresh push expire_at when the connection is still allowed. */
        refresh_interval: duration.default('5m'),
        /**
         * Grace extension refresh and sub_refresh answer when no decision can be made (timeout,
         * internal error): Centrifugo would read an error as "expired" and disconnect. 60s is what
         * Centrifugo grants itself when its call to us fails.
         */
        failure_extension: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default('60s'),
        /**
         * How long an allowed subscription lives before sub_refresh asks the policy again (the
         * subscribe answer's expire_at, and each sub_refresh extension). 0: subscriptions never
         * expire and sub_refresh is never called for them.
         */
        subscription_lifetime: duration.refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (off) or at least 1s').default(0),
        /** How often the in-memory mirror of revoked users is read again in full from Redis (changes announced by the CLI apply at once). */
        revocation_resync: duration.default('10s'),
        /** Server-side subscriptions added to connect results when the policy allows them. */
        channels: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({}),
    policy: z
      .object({
        model: z.string().min(1).default('../policies/model.conf'),
        policy: z.string().min(1).default('../policies/policy.csv'),
        tests: z.string().default('../policies/tests'),
        watch: z.boolean().default(true),
        /** Quiet time after the last file change before a reload (editors write in several steps). */
        debounce: duration.default('200ms'),
        mode: z.enum(['enforce', 'shadow']).default('enforce'),
        /**
         * Policy names starting with one of these are roles, never user IDs: a token whose sub is
         * "role:admin" gets none of role:admin's rights. Names on the right of a g line and the
         * implicit roles are roles whatever their spelling (src/policy/role-names.ts).
         */
        role_prefixes: z.array(z.string().min(1)).default(['role:']),
        /** Refuse a policy (at start and on reload) that `check` would warn about (src/policy/lint.ts). */
        strict: z.boolean().default(false),
        /** A directory with model.conf and *.csv: evaluated beside the live policy, disagreements logged, answers unchanged. */
        candidate: z.string().default(''),
        decision_log: z
          .object({
            /** Every deny is logged; this share of allows too (0 to 1). */
            allow_sample: z.number().min(0).max(1).default(0),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    cache: z
      .object({
        redis_url: z.string().default(''),
        key_prefix: z.string().default('cpp:'),
        ttl: duration.default('30s'),
        max_entries: z.number().int().positive().default(100_000),
        /** One Redis command may take this long before it counts as a miss. */
        redis_timeout: duration.default('50ms'),
      })
      .strict()
      .default({}),
    rpc: z
      .object({
        routes: z
          .array(
            z
              .object({
                /** Exact (`tasks.get_stats`, `tasks:get`) or a prefix ending in `*` (`tasks.*`, `tasks:*`). */
                method: z.string().min(1),
                upstream: z.string().url(),
                timeout: duration.default('1s'),
                /** Headers Centrifugo forwarded that this upstream may see (an allow-list; lowercase). */
                headers: z.array(z.string().regex(/^[A-Za-z0-9-]+$/).transform((h) => h.toLowerCase())).default([]),
                /** JSON Schema the call's data must satisfy before any upstream call. */
                params_schema: z.record(z.unknown()).optional(),
                /** JSON Schema of the answer: typed clients (`types`, `generate`) and, with result_check, checked at run time. */
                result_schema: z.record(z.unknown()).optional(),
                /**
                 * What an answer that does not match result_schema does: off (not checked), log
                 * (passed on, logged and counted), refuse (502 bad gateway instead, so typed
                 * clients never get a value their types do not describe).
                 */
                result_check: z.enum(['off', 'log', 'refuse']).default('off'),
                /** Safe to repeat: failed attempts (unreachable, 5xx) are retried within the timeout. */
                idempotent: z.boolean().default(false),
                retries: z.number().int().min(0).max(5).default(0),
                /** Calls in flight to this route at once; more get 429 too many requests (temporary). */
                max_concurrency: z.number().int().positive().default(100),
              })
              .strict(),
          )
          .default([]),
        /** Per upstream origin: after `failures` failures in a row, calls fail fast (503) for `cooldown`. */
        breaker: z
          .object({ failures: z.number().int().positive().default(5), cooldown: duration.default('10s') })
          .strict()
          .default({}),
        /** Re-read rpc.routes when the config file changes (other keys need a restart). */
        watch: z.boolean().default(true),
      })
      .strict()
      .default({}),
    /**
     * Requests per subject in a sliding window (src/ratelimit/, docs/rate-limits.md). No rules:
     * nothing is counted. With cache.redis_url the counts are shared by every replica; without
     * it each replica counts on its own.
     */
    rate_limits: z
      .object({
        /** connect by address: the header the load balancer in front of Centrifugo sets (e.g. x-real-ip). */
        address_header: z
          .string()
          .regex(/^[A-Za-z0-9-]*$/, 'expected a header name like x-real-ip')
          .transform((h) => h.toLowerCase())
          .default(''),
        /** Every rule applies, each counting by the client address or the (verified) user. */
        connect: z.array(rateLimit({ by: z.enum(['address', 'user']) })).default([]),
        /** First match wins; `channel` is exact or a prefix ending in `*` (`chat:*`: the chat namespace). */
        publish: z.array(rateLimit({ channel: z.string().min(1).default('*') })).default([]),
        /** First match wins; `method` is exact or a prefix ending in `*`. */
        rpc: z.array(rateLimit({ method: z.string().min(1).default('*') })).default([]),
        /** In-process counting only (no Redis): subjects remembered at most. */
        max_keys: z.number().int().positive().default(100_000),
      })
      .strict()
      .default({}),
    /**
     * Token mode (docs/token-mode.md): mint Centrifugo connection and subscription JWTs for
     * verified users the policy allows, and a guarded publish API for backends. Off by default.
     */
    token_mode: z
      .object({
        enabled: z.boolean().default(false),
        /** The key Centrifugo's client.token verifies (hmac_secret_key, rsa_public_key, ecdsa_public_key, or a JWKS for EdDSA). */
        connection: z
          .object({
            algorithm: z.enum(['HS256', 'RS256', 'ES256', 'EdDSA']).default('HS256'),
            hmac_secret: z.string().default(''),
            private_key_file: z.string().default(''),
            /** `kid` header; also the key's id in GET /api/token/jwks. */
            key_id: z.string().default(''),
            /** Set when Centrifugo's client.token.audience / issuer are. */
            audience: z.string().default(''),
            issuer: z.string().default(''),
            /** A connection token lives at most this long (and never past the user token's own exp). */
            lifetime: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default('10m'),
          })
          .strict()
          .default({}),
        subscription: z
          .object({
            lifetime: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default('10m'),
          })
          .strict()
          .default({}),
        /** Browser origins allowed to call /api/token and /api/subscription-token (exact match; "*" for any, without cookies). */
        cors_origins: z.array(z.string().min(1)).default([]),
        /** Per user, for the two minting endpoints; requests: 0 turns it off. */
        rate_limit: z
          .object({ requests: z.number().int().min(0).default(60), window: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default('1m') })
          .strict()
          .default({}),
        publish: z
          .object({
            /** Several keys for rotation; each is an identity the policy decides `publish` for. */
            api_keys: z
              .array(
                z
                  .object({
                    key: z.string().refine((k) => Buffer.byteLength(k) >= 16, 'must be at least 16 bytes'),
                    subject: z.string().min(1),
                    roles: z.array(z.string().min(1)).default([]),
                  })
                  .strict(),
              )
              .default([]),
            /** Centrifugo's HTTP server API base, e.g. http://centrifugo:8000/api */
            centrifugo_url: z.string().default(''),
            centrifugo_api_key: z.string().default(''),
            timeout: duration.refine((ms) => ms >= 10, 'must be at least 10ms').default('2s'),
            max_channels: z.number().int().positive().default(1000),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    /**
     * The policy page (docs/policies.md): a read-only web page and JSON API for security teams on
     * its own listener. Off by default; a non-loopback host needs a token (config load refuses it).
     */
    policy_page: z
      .object({
        enabled: z.boolean().default(false),
        host: z.string().default('127.0.0.1'),
        port: port.default(9102),
        /** When set, every request carries it (Authorization: Bearer, or the login form's cookie). */
        token: z.string().default(''),
        /** How many of the latest candidate disagreements the page keeps in memory. */
        disagreements: z.number().int().positive().max(10_000).default(100),
      })
      .strict()
      .default({}),
    codes: z
      .object({
        unauthorized: disconnectAnswer(4501, 'unauthorized'),
        token_expired: disconnectAnswer(4001, 'token expired'),
        forbidden: disconnectAnswer(4503, 'forbidden'),
        permission_denied: errorAnswer(403, 'permission denied'),
        method_not_found: errorAnswer(404, 'method not found'),
        bad_request: errorAnswer(400, 'bad request'),
        too_many_requests: errorAnswer(429, 'too many requests', true),
        upstream_timeout: errorAnswer(504, 'upstream timeout', true),
        upstream_unavailable: errorAnswer(503, 'upstream unavailable', true),
        upstream_error: errorAnswer(502, 'bad gateway', true),
        internal: errorAnswer(500, 'internal error', true),
        /** connect while the identity provider's keys cannot be fetched (jwks_url down, key not cached). */
        keys_unavailable: errorAnswer(503, 'keys unavailable', true),
      })
      .strict()
      .default({}),
    telemetry: z
      .object({
        /** Put user IDs on trace spans (enduser.id). Off by default: traces often leave the security boundary. */
        include_user: z.boolean().default(false),
      })
      .strict()
      .default({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type Codes = Config['codes'];

/** The caller secrets in force: `caller_auth.secret` as a list (rotation), empty entries left out. */
export function callerSecrets(secret: string | readonly string[]): string[] {
  return (typeof secret === 'string' ? [secret] : secret).filter((s) => s !== '');
}
