/**
 * Loads the config once: file → YAML → ${VAR} interpolation → zod → relative paths resolved →
 * cross-checks → frozen. Every problem becomes one line naming the file and config path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ZodIssue } from 'zod';
import { policyPageProblems } from '../admin/policy-page/config-problems.js';
import { parseRedisUrl, RedisUrlError } from '../cache/redis-connection.js';
import { rateLimitProblems } from '../ratelimit/rules.js';
import { schemaProblem } from '../rpc/params-validator.js';
import { callerSecrets, configSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../config/default.yaml');

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export interface LoadedConfig {
  readonly file: string;
  readonly config: Config;
}

/** --config FILE, else $CONFIG_FILE, else the bundled default. */
export function chooseConfigFile(cliValue: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(cliValue ?? env.CONFIG_FILE ?? DEFAULT_CONFIG_FILE);
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_VARIABLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** Replaces ${VAR} and ${VAR:-default} in every string value (keys are left alone). */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    const replaced = value.replace(VARIABLE, (_, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${path}: environment variable ${name} is not set (write \${${name}:-default} to allow that)`);
      return '';
    });
    // A value that is exactly one variable takes the type its text spells: "3000" → 3000, "true" → true.
    if (WHOLE_VARIABLE.test(value) && replaced !== '') {
      const typed: unknown = parseYaml(replaced);
      if (typeof typed === 'number' || typeof typed === 'boolean') return typed;
    }
    return replaced;
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, `${path}[${i}]`, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, path ? `${path}.${key}` : key, problems)]),
    );
  }
  return value;
}

function describeIssue(issue: ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${path ? `${path}.` : ''}${key}: unknown key`).join('\n');
  }
  return `${path || '(root)'}: ${issue.message}`;
}

/** Config paths holding file names; resolved against the config file's folder. */
function resolvePaths(config: Config, baseDir: string): Config {
  const at = (p: string) => (p === '' || isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    grpc: { ...config.grpc, tls: { cert: at(config.grpc.tls.cert), key: at(config.grpc.tls.key), client_ca: at(config.grpc.tls.client_ca) } },
    auth: {
      ...config.auth,
      jwt: { ...config.auth.jwt, jwks_file: at(config.auth.jwt.jwks_file), public_key_file: at(config.auth.jwt.public_key_file) },
    },
    token_mode: {
      ...config.token_mode,
      connection: { ...config.token_mode.connection, private_key_file: at(config.token_mode.connection.private_key_file) },
    },
    policy: {
      ...config.policy,
      model: at(config.policy.model),
      policy: at(config.policy.policy),
      tests: at(config.policy.tests),
      candidate: at(config.policy.candidate),
    },
  };
}

function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  const mustExist: Array<[string, string]> = [
    ['policy.model', config.policy.model],
    ['policy.policy', config.policy.policy],
    ['policy.candidate', config.policy.candidate],
    ['auth.jwt.jwks_file', config.auth.jwt.jwks_file],
    ['auth.jwt.public_key_file', config.auth.jwt.public_key_file],
    ['grpc.tls.cert', config.grpc.tls.cert],
    ['grpc.tls.key', config.grpc.tls.key],
    ['grpc.tls.client_ca', config.grpc.tls.client_ca],
    ['token_mode.connection.private_key_file', config.token_mode.connection.private_key_file],
  ];
  for (const [path, file] of mustExist) {
    if (file !== '' && !existsSync(file)) problems.push(`${path}: file not found: ${file}`);
  }
  const { jwt } = config.auth;
  if (jwt.jwks_url !== '' && !/^https?:\/\/[^/]/i.test(jwt.jwks_url)) {
    problems.push(`auth.jwt.jwks_url: must be an http(s) URL, got "${jwt.jwks_url}" (a key set on disk goes in auth.jwt.jwks_file)`);
  }
  const hmacAlgorithms = jwt.algorithms.filter((a) => a.startsWith('HS'));
  if (hmacAlgorithms.length > 0 && jwt.hmac_secret === '') {
    problems.push(`auth.jwt.algorithms: ${hmacAlgorithms.join(', ')} needs auth.jwt.hmac_secret`);
  }
  if (jwt.hmac_secret !== '' && Buffer.byteLength(jwt.hmac_secret) < 32) {
    problems.push('auth.jwt.hmac_secret: must be at least 32 bytes (256 bits)');
  }
  if ((config.grpc.tls.cert === '') !== (config.grpc.tls.key === '')) {
    problems.push('grpc.tls: cert and key go together');
  }
  if (config.grpc.tls.client_ca !== '' && config.grpc.tls.cert === '') {
    problems.push('grpc.tls.client_ca: mutual TLS needs grpc.tls.cert and grpc.tls.key');
  }
  callerSecrets(config.caller_auth.secret).forEach((secret, i) => {
    const path = typeof config.caller_auth.secret === 'string' ? 'caller_auth.secret' : `caller_auth.secret[${i}]`;
    if (Buffer.byteLength(secret) < 16) problems.push(`${path}: must be at least 16 bytes`);
  });
  config.rpc.routes.forEach((route, i) => {
    const star = route.method.indexOf('*');
    if (star >= 0 && star !== route.method.length - 1) {
      problems.push(`rpc.routes[${i}].method: "*" may only end a method prefix, got "${route.method}"`);
    }
    if (route.retries > 0 && !route.idempotent) {
      problems.push(`rpc.routes[${i}].retries: only idempotent routes are retried (set idempotent: true if repeating a call is safe)`);
    }
    for (const key of ['params_schema', 'result_schema'] as const) {
      const schema = route[key];
      if (schema === undefined) continue;
      const problem = schemaProblem(schema);
      if (problem) problems.push(`rpc.routes[${i}].${key}: ${problem}`);
    }
  });
  problems.push(...tokenModeProblems(config));
  if (config.http.headers_timeout > config.http.request_timeout) {
    problems.push('http.headers_timeout: must not be longer than http.request_timeout (the whole request includes its headers)');
  }
  const otherPorts = [config.http.port, config.grpc.enabled ? config.grpc.port : -1, config.policy_page.enabled ? config.policy_page.port : -1];
  if (config.admin.enabled && config.admin.port !== 0 && otherPorts.includes(config.admin.port)) {
    problems.push('admin.port: must differ from http.port, grpc.port and policy_page.port');
  }
  problems.push(...policyPageProblems(config));
  problems.push(...rateLimitProblems(config.rate_limits));
  if (config.http.port !== 0 && config.grpc.enabled && config.http.port === config.grpc.port) {
    problems.push('grpc.port: must differ from http.port');
  }
  if (config.cache.redis_url !== '') {
    try {
      parseRedisUrl(config.cache.redis_url);
    } catch (err) {
      if (!(err instanceof RedisUrlError)) throw err;
      problems.push(`cache.redis_url: ${err.message}`);
    }
  }
  return problems;
}

/** token_mode: a signing key that fits the algorithm, and a Centrifugo to publish to. Checked only when enabled. */
function tokenModeProblems(config: Config): string[] {
  const mode = config.token_mode;
  if (!mode.enabled) return [];
  const problems: string[] = [];
  const { connection, publish } = mode;
  if (connection.algorithm === 'HS256') {
    if (connection.hmac_secret === '') problems.push('token_mode.connection.hmac_secret: HS256 needs it (the same value as Centrifugo\'s client.token.hmac_secret_key)');
    else if (Buffer.byteLength(connection.hmac_secret) < 32) problems.push('token_mode.connection.hmac_secret: must be at least 32 bytes (256 bits)');
    // Our user tokens would then pass as Centrifugo connection tokens, bypassing the policy.
    if (connection.hmac_secret !== '' && connection.hmac_secret === config.auth.jwt.hmac_secret) {
      problems.push('token_mode.connection.hmac_secret: must differ from auth.jwt.hmac_secret');
    }
    if (connection.private_key_file !== '') problems.push('token_mode.connection.private_key_file: not used with HS256 (set algorithm to RS256, ES256 or EdDSA)');
  } else {
    if (connection.private_key_file === '') problems.push(`token_mode.connection.private_key_file: ${connection.algorithm} needs a PEM private key`);
    if (connection.hmac_secret !== '') problems.push(`token_mode.connection.hmac_secret: not used with ${connection.algorithm}`);
  }
  if (publish.api_keys.length > 0) {
    if (publish.centrifugo_url === '') problems.push('token_mode.publish.centrifugo_url: needed with api_keys');
    else if (!/^https?:\/\/[^/]/.test(publish.centrifugo_url)) problems.push('token_mode.publish.centrifugo_url: expected http(s)://HOST[:PORT]/api');
    if (publish.centrifugo_api_key === '') problems.push('token_mode.publish.centrifugo_api_key: needed with api_keys (Centrifugo\'s http_api.key)');
    const seen = new Set<string>();
    publish.api_keys.forEach((entry, i) => {
      if (seen.has(entry.key)) problems.push(`token_mode.publish.api_keys[${i}].key: listed twice`);
      seen.add(entry.key);
    });
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Parses config text; `file` names it in problems and anchors relative paths. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `:${err.linePos[0].line}` : '';
    throw new ConfigError([`${file}${where}: invalid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError([`${file}: the config must be a YAML mapping`]);
  const envProblems: string[] = [];
  const interpolated = interpolate(raw, env, '', envProblems);
  if (envProblems.length > 0) throw new ConfigError(envProblems.map((p) => `${file}: ${p}`));
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.flatMap((issue) => describeIssue(issue).split('\n')).map((p) => `${file}: ${p}`));
  }
  const config = resolvePaths(parsed.data, dirname(file));
  const problems = crossCheck(config);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`));
  return deepFreeze(config);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read config: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return { file, config: parseConfig(text, file, env) };
}

/**
 * Only the `cache` section (Redis URL, key prefix), for commands that need nothing else — revoke
 * runs from an operator's shell where the caller secret, key sources and policy files of the
 * service's config are often absent, and none of them matter for writing a revocation.
 */
export function loadCacheSettings(file: string, env: NodeJS.ProcessEnv = process.env): { file: string; cache: Config['cache'] } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    const reason = err instanceof YAMLParseError ? `invalid YAML: ${err.message.split('\n')[0]}` : `cannot read config: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    throw new ConfigError([`${file}: ${reason}`]);
  }
  const section = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>).cache : undefined;
  const problems: string[] = [];
  const interpolated = interpolate(section ?? {}, env, 'cache', problems);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`));
  const parsed = configSchema.shape.cache.safeParse(interpolated);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${file}: ${describeIssue({ ...issue, path: ['cache', ...issue.path] })}`));
  if (parsed.data.redis_url !== '') {
    try {
      parseRedisUrl(parsed.data.redis_url);
    } catch (err) {
      if (!(err instanceof RedisUrlError)) throw err;
      throw new ConfigError([`${file}: cache.redis_url: ${err.message}`]);
    }
  }
  return { file, cache: parsed.data };
}
