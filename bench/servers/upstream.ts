// An RPC upstream for the rpc row: answers every POST with a small JSON body.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = '{"ok":true}';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 650_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.({ ready: true, port: (server.address() as { port: number }).port }));
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
