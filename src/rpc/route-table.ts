/**
 * RPC routes from config, compiled once: first match wins, in file order. A method is exact
 * (`tasks.get_stats`, or Centrifugo's namespace form `tasks:get`) or a prefix ending in `*`
 * (`tasks.*`, `tasks:*`). Each route carries its compiled params check and its own limiter.
 */
import type { Config } from '../config/schema.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { compileParamsCheck, type ParamsCheck } from './params-validator.js';

type RouteConfig = Config['rpc']['routes'][number];

export interface Route {
  readonly method: string;
  readonly upstream: string;
  readonly timeoutMs: number;
  readonly headers: readonly string[];
  readonly checkParams?: ParamsCheck;
  /** With result_check log or refuse: the compiled result_schema check. */
  readonly checkResult?: ParamsCheck;
  readonly resultCheck: 'off' | 'log' | 'refuse';
  /** Extra attempts after a failure; 0 unless the route is idempotent. */
  readonly retries: number;
  readonly limit: ConcurrencyLimit;
}

export function compileRoute(r: RouteConfig): Route {
  return {
    method: r.method,
    upstream: r.upstream,
    timeoutMs: r.timeout,
    headers: r.headers,
    checkParams: r.params_schema ? compileParamsCheck(r.params_schema) : undefined,
    checkResult: r.result_schema && r.result_check !== 'off' ? compileParamsCheck(r.result_schema) : undefined,
    resultCheck: r.result_check,
    retries: r.idempotent ? r.retries : 0,
    limit: new ConcurrencyLimit(r.max_concurrency),
  };
}

export class RouteTable {
  private readonly exact = new Map<string, { index: number; route: Route }>();
  private readonly prefixes: Array<{ index: number; prefix: string; route: Route }> = [];

  constructor(routes: readonly RouteConfig[]) {
    routes.forEach((config, index) => {
      const route = compileRoute(config);
      if (config.method.endsWith('*')) this.prefixes.push({ index, prefix: config.method.slice(0, -1), route });
      else if (!this.exact.has(config.method)) this.exact.set(config.method, { index, route });
    });
  }

  find(method: string): Route | undefined {
    const exact = this.exact.get(method);
    // An earlier prefix route wins over a later exact one: "first match wins" in file order.
    const prefix = this.prefixes.find((p) => method.startsWith(p.prefix) && (!exact || p.index < exact.index));
    return prefix?.route ?? exact?.route;
  }
}
