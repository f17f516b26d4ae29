import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CasbinEngine } from '../../src/policy/casbin-engine.js';
import { PolicySourceError, readPolicySource } from '../../src/policy/policy-source.js';
import { ROOT } from '../helpers/harness.js';

const MODEL = `${ROOT}/policies/model.conf`;

async function engineFor(csv: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-policy-'));
  writeFileSync(join(dir, 'policy.csv'), csv);
  return CasbinEngine.build(readPolicySource(MODEL, join(dir, 'policy.csv')));
}

async function errorFor(csv: string): Promise<string> {
  try {
    await engineFor(csv);
  } catch (err) {
    assert.ok(err instanceof PolicySourceError);
    return err.describe().replace(/^.*policy\.csv/, 'policy.csv');
  }
  return assert.fail('expected the policy to be refused');
}

describe('casbin engine semantics', () => {
  it('deny overrides allow; no match denies', async () => {
    const e = await engineFor('p, alice, chat:*, publish, allow\np, alice, chat:ro, publish, deny\n');
    const ask = (object: string) => e.decide({ user: 'alice', roles: [], action: 'publish', object });
    assert.equal(ask('chat:a'), true);
    assert.equal(ask('chat:ro'), false);
    assert.equal(e.decide({ user: 'bob', roles: [], action: 'publish', object: 'chat:a' }), false);
    assert.equal(e.decide({ user: 'alice', roles: [], action: 'subscribe', object: 'chat:a' }), false);
  });

  it('roles from meta behave like g lines, including inherited roles', async () => {
    const e = await engineFor('p, role:member, chat:*, subscribe, allow\ng, role:admin, role:member\ng, carol, role:member\n');
    const ask = (user: string, roles: string[]) => e.decide({ user, roles, action: 'subscribe', object: 'chat:x' });
    assert.equal(ask('bob', ['role:member']), true);
    assert.equal(ask('bob', ['role:admin']), true);
    assert.equal(ask('carol', []), true);
    assert.equal(ask('bob', []), false);
    // Roles of one request never leak into the next.
    assert.equal(ask('bob', []), false);
  });

  it('implicit roles: anonymous and authenticated', async () => {
    const e = await engineFor('p, anonymous, news:*, subscribe, allow\np, authenticated, feed:*, subscribe, allow\n');
    assert.equal(e.decide({ user: '', roles: [], action: 'subscribe', object: 'news:a' }), true);
    assert.equal(e.decide({ user: '', roles: [], action: 'subscribe', object: 'feed:a' }), false);
    assert.equal(e.decide({ user: '5', roles: [], action: 'subscribe', object: 'feed:a' }), true);
    assert.equal(e.decide({ user: '5', roles: [], action: 'subscribe', object: 'news:a' }), false);
  });

  it('explain names the deciding line and the other matches', async () => {
    const e = await engineFor('# c\np, role:m, chat:*, publish, allow\n\np, 666, *, publish, deny\n');
    const x = e.explain({ user: '666', roles: ['role:m'], action: 'publish', object: 'chat:a' });
    assert.equal(x.allowed, false);
    assert.deepEqual(x.deciding.map((r) => r.location.line), [4]);
    assert.deepEqual(x.matched.map((r) => r.location.line), [2, 4]);
  });

  it('a directory of CSV files is read in name order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-policy-dir-'));
    mkdirSync(join(dir, 'p'));
    writeFileSync(join(dir, 'p', '10-chat.csv'), 'p, role:m, chat:*, subscribe, allow\n');
    writeFileSync(join(dir, 'p', '20-bans.csv'), 'p, 9, chat:*, subscribe, deny\n');
    const e = await CasbinEngine.build(readPolicySource(MODEL, join(dir, 'p')));
    assert.equal(e.decide({ user: '8', roles: ['role:m'], action: 'subscribe', object: 'chat:x' }), true);
    assert.equal(e.decide({ user: '9', roles: ['role:m'], action: 'subscribe', object: 'chat:x' }), false);
  });

  it('the version is a content hash', async () => {
    const a = await engineFor('p, a, b, subscribe, allow\n');
    const b = await engineFor('p, a, b, subscribe, allow\n');
    const c = await engineFor('p, a, c, subscribe, allow\n');
    assert.equal(a.version, b.version);
    assert.notEqual(a.version, c.version);
  });

  const bad: Array<[string, string, string]> = [
    ['misspelt effect', 'p, a, b, subscribe, allow\np, a, b, publish, alow\n', 'policy.csv:2: effect must be "allow" or "deny", got "alow"'],
    ['too few values', 'p, a, subscribe, allow\n', 'policy.csv:1: "p" takes 4 values (sub, obj, act, eft), got 3'],
    ['unknown policy type', 'x, a, b\n', 'policy.csv:1: line must start with a policy type like "p" or "g", got "x"'],
    ['undefined g2', 'g2, a, b\n', 'policy.csv:1: policy type "g2" is not defined in the model'],
    ['empty subject', 'p, , *, connect, allow\n', 'policy.csv:1: empty value (use a role such as "anonymous" instead of an empty subject)'],
    ['unbalanced quote', 'p, "a, b, subscribe, allow\n', 'policy.csv:1: unbalanced double quote'],
  ];
  for (const [note, csv, message] of bad) {
    it(`refuses a policy with ${note}`, async () => {
      assert.equal(await errorFor(csv), message);
    });
  }
});
