/**
 * What the `listening` line says about the set-up, so an operator sees from the first log line
 * which key source verifies tokens, which Redis topology backs the shared tiers and where traces
 * go — without any secret (URLs lose their credentials).
 */
import { callerSecrets, type Config } from '../config/schema.js';
import { parseRedisUrl } from '../cache/redis-connection.js';
import { tracingEnabled } from './tracing.js';

export interface StartupSummary {
  readonly key_source: string;
  readonly redis: string;
  readonly tracing: string;
  readonly caller_auth: 'on' | 'off';
}

function keySource(jwt: Config['auth']['jwt']): string {
  const sources = [
    jwt.jwks_url !== '' ? `jwks_url ${new URL(jwt.jwks_url).origin}` : '',
    jwt.jwks_file !== '' ? 'jwks_file' : '',
    jwt.public_key_file !== '' ? 'public_key_file' : '',
    jwt.hmac_secret !== '' ? 'hmac_secret' : '',
  ].filter(Boolean);
  return sources.length > 0 ? sources.join(', ') : 'none';
}

function redisTopology(url: string): string {
  if (url === '') return 'none (in-process cache only)';
  try {
    const parsed = parseRedisUrl(url);
    return `${parsed.kind} (${parsed.hosts.length} host${parsed.hosts.length === 1 ? '' : 's'})`;
  } catch {
    return 'invalid url';
  }
}

export function startupSummary(config: Config, env: NodeJS.ProcessEnv = process.env): StartupSummary {
  return {
    key_source: keySource(config.auth.jwt),
    redis: redisTopology(config.cache.redis_url),
    tracing: tracingEnabled() ? `on (exporter ${env.OTEL_TRACES_EXPORTER ?? 'otlp'})` : 'off',
    caller_auth: callerSecrets(config.caller_auth.secret).length === 0 ? 'off' : 'on',
  };
}
