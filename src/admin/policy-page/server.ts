/**
 * The policy page's own listener (policy_page.host:port), separate from the proxy's ports:
 *
 *   GET  /                   the page (HTML; its script reads the API below)
 *   GET  /page.js, /page.css its static files (no data in them, so served without login)
 *   GET  /login, POST /login the token form (only when policy_page.token is set)
 *   POST /logout             ends the browser session
 *   GET  /api/policy         version, evaluator, rules with file:line, lint warnings, reload error
 *   GET  /api/explain        ?user=&roles=a,b&action=&object= → the same JSON as `explain --json`
 *   GET  /api/tests          the same JSON as `test --json --coverage`, plus the coverage lines
 *   GET  /api/disagreements  the latest candidate disagreements, newest first
 *
 * Read-only: no route loads or changes a policy. Requests are never logged (their query holds
 * the questions asked, their headers the token).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { PageAccess } from './access.js';
import { BadQuestion, type PolicyPageAnswers } from './answers.js';
import { loginHtml, PAGE_CSS, PAGE_HTML, PAGE_JS } from './assets.js';
import { SIDE_LISTENER_TIMEOUT_MS, sideListenerOptions } from '../../core/side-listener.js';

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface PolicyPageServerDeps {
  readonly answers: PolicyPageAnswers;
  readonly access: PageAccess;
  readonly log: Logger;
}

export function policyPageApp({ answers, access, log }: PolicyPageServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  });
  app.get('/page.js', (_req, res) => void res.type('text/javascript').send(PAGE_JS));
  app.get('/page.css', (_req, res) => void res.type('text/css').send(PAGE_CSS));
  // Browsers ask for it; an empty answer keeps a 404 out of the console.
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.get('/login', (_req, res) => void (access.protected ? res.type('html').send(loginHtml(false)) : res.redirect(303, '/')));
  app.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req: Request, res: Response) => {
    const presented = typeof req.body?.token === 'string' ? (req.body.token as string) : '';
    const cookie = access.login(presented);
    if (!cookie) return void res.status(401).type('html').send(loginHtml(access.protected));
    res.set('set-cookie', cookie).redirect(303, '/');
  });
  app.post('/logout', (_req, res) => void res.set('set-cookie', PageAccess.logout).redirect(303, access.protected ? '/login' : '/'));

  // Everything below needs access.
  app.use((req, res, next) => {
    const result = access.check(req.headers);
    if (result === 'ok') return next();
    if (result === 'bad_host') return void res.status(403).json({ error: 'the policy page without a token answers only requests addressed to a loopback host' });
    if (req.path.startsWith('/api/')) return void res.status(401).set('www-authenticate', 'Bearer').json({ error: 'unauthorized: send Authorization: Bearer <policy_page.token>' });
    res.redirect(303, '/login');
  });
  app.get('/', (_req, res) => void res.type('html').send(PAGE_HTML));
  // An answer may be a promise (lint and tests run in time slices); express 5 passes its rejection to the error handler below.
  const api = (answer: (req: Request) => unknown) => async (req: Request, res: Response) => void res.json(await answer(req));
  app.get('/api/policy', api(() => answers.policy()));
  app.get('/api/explain', api((req) => answers.explain(new URL(req.originalUrl, 'http://page').searchParams)));
  app.get('/api/tests', api(() => answers.tests()));
  app.get('/api/disagreements', api(() => answers.disagreements()));
  app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadQuestion) return void res.status(400).json({ error: err.message });
    // Body parser refusals (too large, malformed) carry their own status.
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return void res.status(status).json({ error: 'bad request' });
    log.error({ error: err.message }, 'policy page request failed');
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}

/**
 * Binds the page's listener; the error names the config key when the port is taken. A client
 * still sending its request after timeoutMs is answered 408 and closed (slow clients).
 */
export function listenPolicyPage(app: express.Express, host: string, port: number, timeoutMs = SIDE_LISTENER_TIMEOUT_MS): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer(sideListenerOptions(timeoutMs), app).listen(port, host);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`policy_page listener on ${host}:${port} failed: ${err.code === 'EADDRINUSE' ? 'the port is in use (choose another with policy_page.port)' : err.message}`)),
    );
    server.once('listening', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

export function closePolicyPage(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Browsers keep connections alive; the page has no request worth waiting for.
    server.closeAllConnections();
  });
}
