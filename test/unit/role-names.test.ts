/**
 * A user ID never acts as a role, in both engines: a user whose ID names a role (a `g` group,
 * a `role:` name, an implicit role) gets only the implicit role and the token's roles, while
 * user-ID subjects (`p, 666, …`, `g, alice, editors`) keep working.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CasbinEngine } from '../../src/policy/casbin-engine.js';
import type { EngineOptions, PolicyEngine } from '../../src/policy/engine.js';
import { IndexedEngine } from '../../src/policy/indexed-engine.js';
import { readPolicySource } from '../../src/policy/policy-source.js';
import { roleNames } from '../../src/policy/role-names.js';
import { ROOT } from '../helpers/harness.js';
import { generatePolicy } from '../helpers/policy-generator.js';

const CSV = `p, role:admin, *, publish, allow
g, role:admin, role:member
p, role:member, chat:*, subscribe, allow
p, editors, docs:*, publish, allow
g, alice, editors
p, tenant:acme, acme.*, subscribe, allow
p, authenticated, personal:{user}, subscribe, allow
p, anonymous, news:*, subscribe, allow
p, 666, *, publish, deny
p, 56, special, subscribe, allow
`;

async function engines(options: EngineOptions = {}): Promise<Array<[string, PolicyEngine]>> {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-roles-'));
  writeFileSync(join(dir, 'policy.csv'), CSV);
  const source = readPolicySource(`${ROOT}/policies/model.conf`, join(dir, 'policy.csv'));
  return [
    ['indexed', await IndexedEngine.build(source, options)],
    ['casbin', await CasbinEngine.build(source, undefined, options)],
  ];
}

const q = (user: string, action: string, object: string, roles: string[] = []) => ({ user, roles, action, object });

describe('a user ID never acts as a role', () => {
  for (const [name, setup] of [
    ['default prefixes', {}],
    ['role_prefixes [role:, tenant:]', { rolePrefixes: ['role:', 'tenant:'] }],
  ] as const) {
    it(`${name}: role-named user IDs get only what a plain user gets, in both engines`, async () => {
      for (const [engine, e] of await engines(setup)) {
        const says = (query: ReturnType<typeof q>) => `${engine}: ${JSON.stringify(query)}`;
        const deny = (query: ReturnType<typeof q>) => assert.equal(e.decide(query), false, says(query));
        const allow = (query: ReturnType<typeof q>) => assert.equal(e.decide(query), true, says(query));
        deny(q('role:admin', 'publish', 'chat:x'));
        deny(q('role:admin', 'subscribe', 'chat:x')); // not through g, role:admin, role:member either
        deny(q('role:member', 'subscribe', 'chat:x'));
        deny(q('editors', 'publish', 'docs:a')); // a g group without a prefix
        deny(q('anonymous', 'subscribe', 'news:a')); // a verified user called "anonymous"
        allow(q('', 'subscribe', 'news:a'));
        allow(q('authenticated', 'subscribe', 'personal:authenticated')); // what every user gets
        allow(q('role:admin', 'subscribe', 'personal:role:admin'));
        // User-ID subjects keep working.
        allow(q('alice', 'publish', 'docs:a'));
        allow(q('56', 'subscribe', 'special'));
        deny(q('666', 'publish', 'chat:x', ['role:admin']));
        allow(q('667', 'publish', 'chat:x', ['role:admin']));
        // Roles from the token are roles, whatever the user is called.
        allow(q('role:admin', 'publish', 'chat:x', ['role:admin']));
        allow(q('editors', 'publish', 'docs:a', ['editors']));
        // explain agrees: nothing matches for the role-named user.
        const x = e.explain(q('role:admin', 'publish', 'chat:x'));
        assert.equal(x.allowed, false, engine);
        assert.deepEqual(x.matched, [], engine);
      }
    });
  }

  it('policy.role_prefixes decides for names only tokens carry (p lines alone)', async () => {
    for (const [engine, e] of await engines({ rolePrefixes: ['role:'] })) {
      assert.equal(e.decide(q('tenant:acme', 'subscribe', 'acme.news')), true, `${engine}: not a role name by default, so a user ID`);
    }
    for (const [engine, e] of await engines({ rolePrefixes: ['role:', 'tenant:'] })) {
      assert.equal(e.decide(q('tenant:acme', 'subscribe', 'acme.news')), false, engine);
      assert.equal(e.decide(q('7', 'subscribe', 'acme.news', ['tenant:acme'])), true, engine);
    }
  });

  it('roleNames: implicit roles, right sides of g lines and prefixed names', () => {
    const isRole = roleNames([{ ptype: 'g', values: ['alice', 'editors'], location: { file: 'x', line: 1 } }]);
    assert.deepEqual(
      ['authenticated', 'anonymous', 'editors', 'role:x', 'alice', '56', ''].map(isRole),
      [true, true, true, true, false, false, false],
    );
  });

  it('differential, no prefixes: right-of-g roles only, both engines agree on role-named users', async () => {
    const generated = generatePolicy(7, 400);
    const options = { rolePrefixes: [] };
    const [indexed, casbin] = await Promise.all([IndexedEngine.build(generated.source, options), CasbinEngine.build(generated.source, undefined, options)]);
    for (const query of generated.requests(1200)) assert.equal(indexed.decide(query), casbin.decide(query), JSON.stringify(query));
  });
});
