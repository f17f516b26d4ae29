// The demo page's static server: this folder's page plus the centrifuge SDK's browser bundle
// from node_modules. A fixed list of files, so nothing else on disk can be asked for.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const FILES = {
  '/': [join(here, 'index.html'), 'text/html; charset=utf-8'],
  '/app.js': [join(here, 'app.js'), 'text/javascript; charset=utf-8'],
  '/centrifuge.js': [join(here, '../../node_modules/centrifuge/dist/centrifuge.js'), 'text/javascript; charset=utf-8'],
};
const port = Number(process.env.DEMO_PAGE_PORT ?? 8080);
const host = process.env.DEMO_PAGE_HOST ?? '127.0.0.1';

createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://page').pathname;
  if (path === '/favicon.ico') return res.writeHead(204).end();
  const entry = FILES[path];
  if (!entry) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  try {
    const [file, type] = entry;
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(await readFile(file));
  } catch {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('the centrifuge SDK is missing: run npm ci\n');
  }
}).listen(port, host, () => console.log(`demo page on http://localhost:${port}/`));
