// Floor: the least a node:http JSON endpoint can do (read body, parse, answer).
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString());
    const body = '{"result":{}}';
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
