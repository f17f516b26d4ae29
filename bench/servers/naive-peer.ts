/**
 * The naive peer: what a user would write instead from Centrifugo's proxy examples. express 5
 * with express.json(), jose verifying every connect token, casbin's enforce for every
 * subscribe, on the same model, policy and public key as the service. No caches.
 */
import { readFileSync } from 'node:fs';
import { newEnforcer } from 'casbin';
import express from 'express';
import { importSPKI, jwtVerify } from 'jose';
import { compileObjectPattern } from '../../src/policy/object-pattern.js';

const dir = process.env.BENCH_POLICY_DIR as string;
const enforcer = await newEnforcer(`${dir}/model.conf`, `${dir}/policy.csv`);
// The model's object matcher (so both sides read the same policy files).
enforcer.addFunction('objectMatch', (object: string, pattern: string, user: string) => compileObjectPattern(pattern).matches(object, user));
const publicKey = await importSPKI(readFileSync(process.env.BENCH_PUBLIC_KEY as string, 'utf8'), 'RS256');

async function allowed(user: string, roles: string[], object: string, action: string): Promise<boolean> {
  for (const subject of [user, ...roles, user === '' ? 'anonymous' : 'authenticated']) {
    if (await enforcer.enforce(subject, object, action)) return true;
  }
  return false;
}

const app = express();
app.use(express.json());
app.post('/centrifugo/connect', async (req, res) => {
  try {
    const { payload } = await jwtVerify(req.body.data.token, publicKey, { algorithms: ['RS256'] });
    const roles = (payload.roles as string[]) ?? [];
    if (!(await allowed(payload.sub as string, roles, '', 'connect'))) return void res.json({ disconnect: { code: 4503, reason: 'forbidden' } });
    res.json({ result: { user: payload.sub, expire_at: payload.exp, meta: { roles } } });
  } catch {
    res.json({ disconnect: { code: 4501, reason: 'unauthorized' } });
  }
});
app.post('/centrifugo/subscribe', async (req, res) => {
  const ok = await allowed(req.body.user, req.body.meta?.roles ?? [], req.body.channel, 'subscribe');
  res.json(ok ? { result: {} } : { error: { code: 403, message: 'permission denied' } });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.({ ready: true, port: (server.address() as { port: number }).port }));
server.keepAliveTimeout = 650_000;
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
