/** RPC routes from config: first match wins; a method is exact, or a prefix ending in "*". */
import type { Config } from '../config/schema.js';

export interface Route {
  readonly method: string;
  readonly upstream: string;
  readonly timeoutMs: number;
}

export class RouteTable {
  private readonly exact = new Map<string, { index: number; route: Route }>();
  private readonly prefixes: Array<{ index: number; prefix: string; route: Route }> = [];

  constructor(routes: Config['rpc']['routes']) {
    routes.forEach((r, index) => {
      const route = { method: r.method, upstream: r.upstream, timeoutMs: r.timeout };
      if (r.method.endsWith('*')) this.prefixes.push({ index, prefix: r.method.slice(0, -1), route });
      else if (!this.exact.has(r.method)) this.exact.set(r.method, { index, route });
    });
  }

  find(method: string): Route | undefined {
    const exact = this.exact.get(method);
    // An earlier prefix route wins over a later exact one: "first match wins" in file order.
    const prefix = this.prefixes.find((p) => method.startsWith(p.prefix) && (!exact || p.index < exact.index));
    return prefix?.route ?? exact?.route;
  }
}
