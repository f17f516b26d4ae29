/**
 * The HTTP surface: the six proxy endpoints on a lean node:http path, and express for the rest
 * (health, readiness, metrics), which is not on Centrifugo's hot path.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { AppState } from '../../app-state.js';
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
}

function operationsApp(deps: HttpServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const reason = deps.state.notReadyReason();
    if (reason) res.status(503).json({ status: 'not ready', reason, ...deps.state.details() });
    else res.json({ status: 'ready', ...deps.state.details() });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  if (deps.routes) app.use(deps.routes);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

export function createHttpServer(deps: HttpServerDeps): { server: Server; drain: HttpDrain } {
  const endpoints = new Map(EVENT_ROUTES.map((route) => [`${deps.basePath}${route.httpPath}`, proxyEndpoint(route.event, deps)]));
  const operations = operationsApp(deps);
  const drain = new HttpDrain();
  const server = createServer({ ServerResponse: drain.Response }, (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const endpoint = endpoints.get(query < 0 ? url : url.slice(0, query));
    if (!endpoint) {
      // express swaps the response's prototype for its own (losing drain.Response's writeHead),
      // so its answers are told here; they are quick, none is in flight for long.
      if (drain.active) res.shouldKeepAlive = false;
      operations(req, res);
      return;
    }
    endpoint(req, res).catch((err: unknown) => {
      deps.log.error({ err }, 'http proxy endpoint failed');
      if (!res.headersSent) sendJson(res, 500, JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  });
  // Centrifugo's Go client keeps idle proxy connections open and reuses them. Node closes idle
  // sockets after 5 s by default, racing the client's next request on that socket (it then sees
  // a reset and the user an error). Keep idle sockets far longer than any client would, and
  // headersTimeout above keepAliveTimeout as Node requires.
  server.keepAliveTimeout = 650_000;
  server.headersTimeout = 660_000;
  drain.attach(server);
  return { server, drain };
}
