/**
 * The HTTP surface: the six proxy endpoints on a lean node:http path, and express for the rest
 * (health, readiness, metrics), which is not on Centrifugo's hot path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { AppState } from '../../app-state.js';
import { operationsRouter } from '../../admin/operations.js';
import { EVENT_ROUTES } from '../../handlers/registry.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { HttpDrain } from './drain.js';
import { proxyEndpoint, sendJson, type ProxyEndpointDeps } from './proxy-endpoint.js';

export interface HttpServerDeps extends ProxyEndpointDeps {
  readonly basePath: string;
  readonly state: AppState;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** More routes on the express side (token mode's /api/*), before the 404. */
  readonly routes?: express.Router;
  /** admin.enabled: /metrics and readiness details are on the admin listener, not here. */
  readonly adminSplit?: boolean;
  readonly limits: HttpLimits;
}

/** http.headers_timeout, request_timeout, max_connections (see the schema). */
export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
}

function operationsApp(deps: HttpServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // With an admin listener, metrics and readiness details live there (src/admin/).
  app.use(operationsRouter(deps, { details: !deps.adminSplit, metrics: !deps.adminSplit }));
  if (deps.routes) app.use(deps.routes);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

/** Whether a failure is the caller closing its connection while we read the body (`aborted`, ECONNRESET). */
function callerLeft(req: IncomingMessage, err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return req.destroyed && !req.complete && (code === 'ECONNRESET' || code === 'ECONNABORTED' || (err as Error | undefined)?.message === 'aborted');
}

export function createHttpServer(deps: HttpServerDeps): { server: Server; drain: HttpDrain } {
  const drain = new HttpDrain();
  const beforeHead = (res: ServerResponse) => drain.closeIfDraining(res);
  const endpoints = new Map(EVENT_ROUTES.map((route) => [`${deps.basePath}${route.httpPath}`, proxyEndpoint(route.event, deps, beforeHead)]));
  const operations = operationsApp(deps);
  const { limits } = deps;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const endpoint = endpoints.get(query < 0 ? url : url.slice(0, query));
    if (!endpoint) {
      // Health, readiness and metrics answers are quick: none is in flight for long.
      drain.closeIfDraining(res);
      operations(req, res);
      return;
    }
    endpoint(req, res).catch((err: unknown) => {
      // A caller hanging up mid-body is its own business, not an operator's: nothing to act on.
      if (callerLeft(req, err)) {
        deps.log.debug({ url: req.url, reason: (err as Error).message }, 'caller went away before its request was read');
        res.destroy();
        return;
      }
      deps.log.error({ err }, 'http proxy endpoint failed');
      if (res.headersSent) return void res.destroy();
      drain.closeIfDraining(res);
      sendJson(res, 500, JSON.stringify({ error: 'internal error' }));
    });
  };
  const server = createServer(
    {
      // Node closes a connection whose request has not fully arrived in time with a 408. Its
      // clock starts at the request's first byte, or at accept for a connection that has sent
      // nothing yet; idle keep-alive connections between requests are not on it.
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for late requests every 30 s by default: far beyond the bounds above.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    onRequest,
  );
  // Centrifugo's Go client keeps idle proxy connections open and reuses them. Node closes idle
  // sockets after 5 s by default, racing the client's next request on that socket (it then sees
  // a reset and the user an error). Keep idle sockets far longer than any client would. (Node
  // 18+ times headers per request, not per idle socket, so headersTimeout can stay short.)
  server.keepAliveTimeout = 650_000;
  // Past the cap, node closes each new connection as it is accepted; open ones are untouched.
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  drain.attach(server);
  return { server, drain };
}
