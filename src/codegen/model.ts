/**
 * What the generators share: the RPC routes read once into methods (names per language, params
 * and result schemas, documented application errors) and the proxy's own RPC error codes from
 * the config's `codes:`. Everything here is derived from the config alone, so the output of
 * `generate` depends on nothing else (no paths, no dates).
 */
import type { Codes, Config } from '../config/schema.js';

export type Schema = Record<string, unknown>;
type RouteConfig = Config['rpc']['routes'][number];

/** An error the proxy itself answers for RPC calls, with the code the config gives it. */
export interface ProxyError {
  /** The key under `codes:` (bad_request, ...). */
  readonly key: string;
  /** PascalCase class/sentinel name without the "Error" suffix. */
  readonly name: string;
  readonly code: number;
  readonly message: string;
  readonly temporary: boolean;
  readonly doc: string;
}

/** An application error the route's upstream documents (`x-errors` on either schema). */
export interface AppError {
  readonly code: number;
  /** snake_case as written in the schema. */
  readonly name: string;
  readonly description?: string;
}

export interface Method {
  /** The route's method as configured: `tasks.create`, `reports.*`. */
  readonly route: string;
  /** For prefix routes (`reports.*`): the part before `*`; the generated method takes the rest. */
  readonly prefix?: string;
  /** Lowercase words naming the method in every language (`tasks`, `create`). */
  readonly words: readonly string[];
  readonly params?: Schema;
  readonly result?: Schema;
  readonly errors: readonly AppError[];
}

export interface ApiModel {
  /** The config file's base name, for the generated header. */
  readonly source: string;
  readonly methods: readonly Method[];
  readonly proxyErrors: readonly ProxyError[];
  /** Every documented application error once (by name), in first-seen order. */
  readonly appErrors: readonly AppError[];
}

const PROXY_ERRORS: ReadonlyArray<{ key: keyof Codes; name: string; doc: string }> = [
  { key: 'bad_request', name: 'BadRequest', doc: "the params failed the route's params_schema; the message names the failing path" },
  { key: 'permission_denied', name: 'PermissionDenied', doc: 'the policy does not allow this user to call the method' },
  { key: 'method_not_found', name: 'MethodNotFound', doc: 'the proxy has no route for the method (a client generated from other routes)' },
  { key: 'too_many_requests', name: 'TooManyRequests', doc: "the route's max_concurrency calls are already in flight (temporary)" },
  { key: 'upstream_timeout', name: 'UpstreamTimeout', doc: "the upstream did not answer within the route's timeout (temporary)" },
  { key: 'upstream_unavailable', name: 'UpstreamUnavailable', doc: "the upstream is unreachable or the route's breaker is open (temporary)" },
  { key: 'upstream_error', name: 'BadGateway', doc: 'the upstream answered a non-2xx status or a body that is not JSON (temporary)' },
  { key: 'internal', name: 'Internal', doc: 'the proxy failed internally or its decision timed out (temporary)' },
];

export class CodegenError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** "tasks.get_stats" → [tasks, get, stats]; "reports.*" → [reports]; "2fa.check" → [rpc, 2fa, check]. */
export function methodWords(method: string): string[] {
  const words = method
    .replace(/\*$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0) return ['call'];
  return /^[0-9]/.test(words[0]!) ? ['rpc', ...words] : words;
}

export const pascal = (words: readonly string[]): string => words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
export const camel = (words: readonly string[]): string => {
  const p = pascal(words);
  return p[0]!.toLowerCase() + p.slice(1);
};
export const snake = (words: readonly string[]): string => words.join('_');

function appErrors(route: RouteConfig, problems: string[], proxyCodes: Map<number, string>): AppError[] {
  const found: AppError[] = [];
  for (const schema of [route.params_schema, route.result_schema]) {
    const declared = schema?.['x-errors'];
    if (declared === undefined) continue;
    if (!Array.isArray(declared)) {
      problems.push(`${route.method}: x-errors must be a list of { code, name, description }`);
      continue;
    }
    for (const entry of declared as unknown[]) {
      const { code, name, description } = (entry ?? {}) as { code?: unknown; name?: unknown; description?: unknown };
      if (!Number.isInteger(code) || (code as number) < 400 || (code as number) > 1999) {
        problems.push(`${route.method}: x-errors code ${JSON.stringify(code)} must be an integer in 400-1999`);
      } else if (typeof name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(name)) {
        problems.push(`${route.method}: x-errors name ${JSON.stringify(name)} must be snake_case`);
      } else if (proxyCodes.has(code as number)) {
        problems.push(`${route.method}: x-errors ${name} uses code ${String(code)}, which the proxy answers as ${proxyCodes.get(code as number)}`);
      } else {
        found.push({ code: code as number, name, ...(typeof description === 'string' ? { description } : {}) });
      }
    }
  }
  return found;
}

/** Reads the routes into the model; throws CodegenError listing every problem. */
export function buildModel(config: Config, source: string): ApiModel {
  const problems: string[] = [];
  const proxyErrors: ProxyError[] = [];
  const proxyCodes = new Map<number, string>();
  for (const e of PROXY_ERRORS) {
    const answer = config.codes[e.key] as { code: number; message: string; temporary: boolean };
    // Two keys configured to one code cannot be told apart by a client: the first one names it.
    if (proxyCodes.has(answer.code)) continue;
    proxyCodes.set(answer.code, e.key);
    proxyErrors.push({ key: e.key, name: e.name, code: answer.code, message: answer.message, temporary: answer.temporary, doc: e.doc });
  }
  const methods: Method[] = [];
  const seen = new Set<string>();
  const byName = new Map<string, AppError>();
  for (const route of config.rpc.routes) {
    if (seen.has(route.method)) continue; // a later duplicate never matches: first match wins
    seen.add(route.method);
    const errors = appErrors(route, problems, proxyCodes);
    for (const e of errors) {
      const earlier = byName.get(e.name);
      if (earlier && earlier.code !== e.code) problems.push(`${route.method}: x-errors ${e.name} is code ${e.code} here but ${earlier.code} on another route`);
      else if (!earlier) byName.set(e.name, e);
    }
    const prefix = route.method.endsWith('*') ? route.method.slice(0, -1) : undefined;
    methods.push({
      route: route.method,
      ...(prefix !== undefined ? { prefix } : {}),
      words: methodWords(route.method),
      ...(route.params_schema ? { params: route.params_schema } : {}),
      ...(route.result_schema ? { result: route.result_schema } : {}),
      errors,
    });
  }
  // Two routes whose names come out the same (tasks.get_x and tasks.getX): later ones get a number.
  const used = new Map<string, number>();
  const named = methods.map((m) => {
    const key = m.words.join('_');
    const n = (used.get(key) ?? 0) + 1;
    used.set(key, n);
    return n === 1 ? m : { ...m, words: [...m.words, String(n)] };
  });
  const taken = new Set(proxyErrors.map((e) => e.name));
  for (const e of byName.values()) if (taken.has(pascal(e.name.split('_')))) problems.push(`x-errors name ${e.name} is one of the proxy's own errors`);
  if (problems.length > 0) throw new CodegenError(problems);
  return { source, methods: named, proxyErrors, appErrors: [...byName.values()] };
}

/** The first line of every generated file (a comment in the language's syntax is added by the caller). */
export const headerText = (model: ApiModel): string =>
  `Generated by \`centrifugo-policy-proxy generate\` from ${model.source}. Do not edit: change rpc.routes and run it again.`;

/** A schema's description, if it has one. */
export const describe = (schema: Schema | undefined): string | undefined =>
  typeof schema?.description === 'string' && schema.description.trim() !== '' ? schema.description.trim() : undefined;
