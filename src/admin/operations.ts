/**
 * Health, readiness and metrics. Where they are served is config: all on the proxy port (the
 * default), or /metrics and the detailed /readyz on the admin listener (admin.enabled), leaving
 * the proxy port a bare readiness answer: policy version and reload errors are for operators.
 */
import express from 'express';
import type { AppState } from '../app-state.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface OperationsDeps {
  readonly state: AppState;
  readonly metrics: Metrics;
}

export interface OperationsScope {
  /** /readyz with the policy version, last reload error and key state (else status and reason only). */
  readonly details: boolean;
  readonly metrics: boolean;
}

export function operationsRouter(deps: OperationsDeps, scope: OperationsScope): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const reason = deps.state.notReadyReason();
    const details = scope.details ? deps.state.details() : {};
    if (reason) res.status(503).json({ status: 'not ready', reason, ...details });
    else res.json({ status: 'ready', ...details });
  });
  if (scope.metrics) {
    router.get('/metrics', async (_req, res) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });
  }
  return router;
}
