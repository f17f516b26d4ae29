import { startRedisSentinel } from './test/helpers/redis-topologies.ts';
import { createRedis } from './src/cache/redis-connection.ts';
const s = await startRedisSentinel();
const [m] = await s.masterPorts();
const probe = createRedis(s.url, { commandTimeoutMs: 200 });
probe.on('error', () => undefined);
await new Promise((r) => setTimeout(r, 500));
console.log('probe status', probe.status, await probe.set('x', '1'));
const t0 = Date.now();
await s.killMaster(m!);
let back = 0;
while (Date.now() - t0 < 20000) {
  const ok = await probe.set('x', '1').then(() => true, (e) => (e as Error).message);
  let mp: number[] | string = [];
  try { mp = await s.masterPorts(); } catch (e) { mp = (e as Error).message; }
  if (Math.floor((Date.now() - t0) / 250) % 2 === 0) console.log(Date.now() - t0, ok, probe.status, mp);
  if (ok === true && !back) { back = Date.now() - t0; console.log('BACK', back); break; }
  await new Promise((r) => setTimeout(r, 100));
}
probe.disconnect();
await s.stop();
