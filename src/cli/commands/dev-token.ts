import { SignJWT } from 'jose';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { parseDuration } from '../../config/units.js';
import { configFlag, loadOrReport, type CliCommand } from '../command.js';

/**
 * dev-token --config FILE --user U [--roles a,b] [--name N] [--ttl 1h]: a token for trying the
 * service out (examples/demo/config.yaml), signed with that config's auth.jwt.hmac_secret.
 * Production tokens come from an identity provider, so this refuses the bundled default config
 * and any config that does not itself trust an HMAC key: it can only mint what the chosen
 * development config already accepts.
 */
export const devTokenCommand: CliCommand = {
  name: 'dev-token',
  usage: 'dev-token --config FILE --user U [--roles a,b] [--name N] [--ttl 1h]',
  summary: 'sign a development token with a demo config\'s HMAC key (e.g. examples/demo/config.yaml)',
  flags: { user: { type: 'string' }, roles: { type: 'string' }, name: { type: 'string' }, ttl: { type: 'string' } },
  async run(flags, out) {
    const user = flags.user;
    if (typeof user !== 'string' || user === '') {
      out.error('dev-token needs --user U');
      return 2;
    }
    const ttl = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : 3_600_000;
    if (ttl === undefined || ttl < 1000) {
      out.error(`--ttl: expected a duration like "30m" or "1h", got "${String(flags.ttl)}"`);
      return 2;
    }
    const file = configFlag(flags);
    if (file === undefined) {
      out.error('dev-token needs --config FILE of a development config (e.g. examples/demo/config.yaml); it never signs for the default config');
      return 2;
    }
    const loaded = loadOrReport(file, out);
    if (!loaded) return 1;
    if (loaded.file === DEFAULT_CONFIG_FILE) {
      out.error(`${loaded.file}: dev-token never signs for the bundled default config; use a development config such as examples/demo/config.yaml`);
      return 1;
    }
    const { jwt, claims } = loaded.config.auth;
    const algorithm = jwt.algorithms.find((a) => a.startsWith('HS'));
    if (jwt.hmac_secret === '' || !algorithm) {
      out.error(`${loaded.file}: auth.jwt: dev-token signs with hmac_secret and an HS algorithm, and this config trusts neither; use a development config such as examples/demo/config.yaml`);
      return 1;
    }
    const roles = typeof flags.roles === 'string' ? flags.roles.split(',').map((r) => r.trim()).filter((r) => r !== '') : [];
    // Claims where the config looks for them (top-level names only; dotted paths are for real IdPs).
    const payload: Record<string, unknown> = { [claims.user]: user };
    if (claims.roles !== '' && roles.length > 0) payload[claims.roles] = roles;
    if (typeof flags.name === 'string') payload.name = flags.name;
    let token = new SignJWT(payload).setProtectedHeader({ alg: algorithm, typ: 'JWT' }).setIssuedAt().setExpirationTime(new Date(Date.now() + ttl));
    if (jwt.issuer !== '') token = token.setIssuer(jwt.issuer);
    if (jwt.audience !== '') token = token.setAudience(jwt.audience);
    out.log(await token.sign(new TextEncoder().encode(jwt.hmac_secret)));
    return 0;
  },
};
