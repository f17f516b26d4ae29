/**
 * Settings that load fine but make the service refuse everyone without saying why: one line each,
 * printed by `check` and logged at startup. They are warnings, not errors, because the bundled
 * default config reads its key source from the environment and must still start bare
 * (`npm start`), e.g. for anonymous-only trials.
 */
import type { Config } from './schema.js';
import { compileObjectPattern, USER_PLACEHOLDER } from '../policy/object-pattern.js';
import type { PolicyRule } from '../policy/policy-source.js';

export function firstRunWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const { jwt } = config.auth;
  const keySources = [jwt.jwks_url, jwt.jwks_file, jwt.public_key_file, jwt.hmac_secret].filter((s) => s !== '');
  if (keySources.length === 0 && !config.auth.anonymous) {
    warnings.push(
      'auth.jwt: no key source (jwks_url / JWKS_URL, jwks_file, public_key_file or hmac_secret / JWT_HMAC_SECRET) and auth.anonymous is off: every connect will be refused (4501)',
    );
  }
  if (jwt.hmac_secret !== '' && !jwt.algorithms.some((a) => a.startsWith('HS'))) {
    warnings.push(`auth.jwt.hmac_secret is set but auth.jwt.algorithms (${jwt.algorithms.join(', ')}) allows no HS256/HS384/HS512: tokens signed with it are refused`);
  }
  return warnings;
}

/** A user ID no real template or rule would name: only `{user}` and wildcards can match it. */
const SAMPLE_USER = 'first-run-sample-user';

/**
 * `auth.channels` templates no `p … subscribe, allow` line with a literal namespace matches:
 * connect then silently drops the channel for every user a catch-all does not cover. (Centrifugo also needs the channel's namespace in its own
 * config, or it refuses the whole connect with 102: see docs/centrifugo.md.)
 */
export function channelTemplateWarnings(config: Config, rules: readonly PolicyRule[]): string[] {
  const grants = rules
    .filter((r) => r.ptype === 'p' && r.values[2] === 'subscribe' && (r.values[3] ?? 'allow') === 'allow')
    .map((r) => compileObjectPattern(r.values[1] ?? ''))
    // A catch-all (`*`, as admins often have) matches every channel and says nothing about this one.
    .filter((pattern) => pattern.literalPrefix !== '');
  return config.auth.channels
    .filter((template) => {
      const channel = template.split(USER_PLACEHOLDER).join(SAMPLE_USER);
      return !grants.some((pattern) => pattern.matches(channel, SAMPLE_USER));
    })
    .map((template) => `auth.channels: "${template}" matches no "p, …, subscribe, allow" line naming its namespace (catch-all "*" lines aside): connect gives it to nobody else`);
}
