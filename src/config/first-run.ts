/**
 * Settings that load fine but make the service refuse everyone without saying why: one line each,
 * printed by `check` and logged at startup. They are warnings, not errors, because the bundled
 * default config reads its key source from the environment and must still start bare
 * (`npm start`), e.g. for anonymous-only trials.
 */
import type { Config } from './schema.js';

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
