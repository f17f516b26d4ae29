/**
 * The admin listener (admin.enabled): /metrics, the detailed /readyz and /healthz on their own
 * address, which a network policy can keep away from clients and Centrifugo alike.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ListenError } from '../core/listen-error.js';
import { sideListenerOptions } from '../core/side-listener.js';
import { operationsRouter, type OperationsDeps } from './operations.js';

export interface AdminServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** timeoutMs: how long a client may take to send its request (sideListenerOptions). */
export function createAdminServer(deps: OperationsDeps, timeoutMs?: number): AdminServer {
  const app = express();
  app.disable('x-powered-by');
  app.use(operationsRouter(deps, { details: true, metrics: true }));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const server: Server = createServer(sideListenerOptions(timeoutMs), app);
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        const failed = (err: Error) => reject(new ListenError('admin', host, port, err));
        server.once('error', failed);
        server.listen(port, host, () => {
          server.off('error', failed);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        // Probes and scrapes hold nothing worth waiting for.
        server.closeAllConnections();
      }),
  };
}
