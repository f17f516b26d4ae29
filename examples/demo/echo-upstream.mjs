// The demo's RPC backend: answers every call with the caller's user ID and the params it got,
// so the page shows that identity travelled Centrifugo → proxy → upstream.
import { createServer } from 'node:http';

const port = Number(process.env.DEMO_ECHO_PORT ?? 8081);
const host = process.env.DEMO_ECHO_HOST ?? '127.0.0.1';

createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ echoed_by: 'demo echo upstream', user: req.headers['x-centrifugo-user'] ?? '', params: body ? JSON.parse(body) : null }));
  });
}).listen(port, host, () => console.log(`demo echo upstream on http://${host}:${port}`));
