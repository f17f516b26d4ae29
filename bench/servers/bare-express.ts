// What the hot path would cost on express 5 with express.json().
import express from 'express';

const app = express();
app.use(express.json());
app.post('/centrifugo/subscribe', (_req, res) => {
  res.json({ result: {} });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.({ ready: true, port: (server.address() as { port: number }).port }));
server.keepAliveTimeout = 650_000;
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
