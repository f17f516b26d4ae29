/**
 * The naive peer: what a user would write instead from Centrifugo's proxy examples and
 * casbin's README. express 5 with express.json(), jose verifying every connect token, one
 * casbin `enforceSync` per decision on the same model, policy and public key as the service.
 * The token's roles become `g, user, role` lines (kept in step with the latest token), so
 * casbin's own effect gives deny-override across all of a user's roles. It answers the same
 * bytes as the service (caller secret, info, meta, the personal channel) so both rows check the
 * same answers. No caches; its own object matcher (nothing from src/).
 */
import { readFileSync } from 'node:fs';
import { newEnforcer } from 'casbin';
import express from 'express';
import { importSPKI, jwtVerify } from 'jose';

const dir = process.env.BENCH_POLICY_DIR as string;
const secret = process.env.BENCH_CALLER_SECRET ?? '';
const enforcer = await newEnforcer(`${dir}/model.conf`, `${dir}/policy.csv`);
// Role lines live in memory only: never written back to policy.csv.
enforcer.enableAutoSave(false);

/** `*` any run of characters, `{user}` the user's ID: a regular expression per pattern and user. */
const patterns = new Map<string, RegExp>();
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
function objectMatch(object: string, pattern: string, user: string): boolean {
  const key = `${pattern}\n${user}`;
  let re = patterns.get(key);
  if (!re) {
    re = new RegExp(`^${pattern.split('{user}').map((part) => part.split('*').map(escape).join('.*')).join(escape(user))}$`);
    patterns.set(key, re);
  }
  return re.test(object);
}
enforcer.addFunction('objectMatch', objectMatch);
const publicKey = await importSPKI(readFileSync(process.env.BENCH_PUBLIC_KEY as string, 'utf8'), 'RS256');

/** The user's `g` lines follow the roles of the latest request: the token's roles and the implicit one. */
const linked = new Map<string, string>();
async function linkRoles(user: string, roles: string[]): Promise<string> {
  const subject = user === '' ? 'anonymous' : user;
  const wanted = [...new Set([...roles, user === '' ? 'anonymous' : 'authenticated'])].sort();
  const key = wanted.join(',');
  if (linked.get(subject) !== key) {
    await enforcer.deleteRolesForUser(subject);
    for (const role of wanted) if (role !== subject) await enforcer.addRoleForUser(subject, role);
    linked.set(subject, key);
  }
  return subject;
}

const app = express();
app.use(express.json());
app.use((req, res, next) => {
  if (secret !== '' && req.get('x-proxy-secret') !== secret) return void res.status(401).json({ error: 'unauthorized' });
  next();
});
app.post('/centrifugo/connect', async (req, res) => {
  let payload;
  try {
    ({ payload } = await jwtVerify(req.body.data.token, publicKey, { algorithms: ['RS256'] }));
  } catch {
    return void res.json({ disconnect: { code: 4501, reason: 'unauthorized' } });
  }
  const user = String(payload.sub);
  const roles = (payload.roles as string[]) ?? [];
  const subject = await linkRoles(user, roles);
  if (!enforcer.enforceSync(subject, '', 'connect')) return void res.json({ disconnect: { code: 4503, reason: 'forbidden' } });
  const personal = `personal:${user}`;
  const channels = enforcer.enforceSync(subject, personal, 'subscribe') ? [personal] : [];
  res.json({ result: { user, expire_at: payload.exp, info: { name: payload.name }, channels, meta: { roles } } });
});
app.post('/centrifugo/subscribe', async (req, res) => {
  const subject = await linkRoles(req.body.user, req.body.meta?.roles ?? []);
  res.json(enforcer.enforceSync(subject, req.body.channel, 'subscribe') ? { result: {} } : { error: { code: 403, message: 'permission denied' } });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.({ ready: true, port: (server.address() as { port: number }).port }));
server.keepAliveTimeout = 650_000;
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
