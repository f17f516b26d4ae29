/**
 * Where a connect's token is found (auth.token_sources), at the edges: source order, data
 * fields that are not strings, Bearer parsing and the Authorization-only rule, cookie parsing.
 * Written for mutation testing (TESTING.md, "Score: src/auth ... (mut3)").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findToken, parseTokenSource } from '../../src/auth/token-sources.js';
import type { ConnectRequest } from '../../src/core/messages.js';

function request(headers: Record<string, string>, data?: { bytes: string; parsed?: unknown }): ConnectRequest {
  return {
    client: 'c',
    transport: 'websocket',
    protocol: 'json',
    encoding: 'json',
    binary: false,
    headers: new Map(Object.entries(headers)),
    ...(data ? { data: { bytes: Buffer.from(data.bytes), ...(data.parsed !== undefined ? { parsed: data.parsed } : {}) } } : {}),
  } as ConnectRequest;
}

const find = (sources: string[], req: ConnectRequest) => findToken(sources.map(parseTokenSource), req);

describe('token-sources: parsing', () => {
  it('parses each kind; header names lowercased, cookie names kept', () => {
    assert.deepEqual(parseTokenSource('data.tok'), { kind: 'data', field: 'tok' });
    assert.deepEqual(parseTokenSource('header:X-Token'), { kind: 'header', name: 'x-token' });
    assert.deepEqual(parseTokenSource('cookie:Access'), { kind: 'cookie', name: 'Access' });
    assert.throws(() => parseTokenSource('query:t'), { message: 'unknown token source "query:t"' });
  });
});

describe('token-sources: order and each source', () => {
  const all = ['data.token', 'header:authorization', 'cookie:access_token'];
  const both = request({ authorization: 'Bearer H', cookie: 'access_token=C' }, { bytes: '{"token":"D"}' });

  it('takes the first source that has a token, in the configured order', () => {
    assert.equal(find(all, both), 'D');
    assert.equal(find(['cookie:access_token', 'header:authorization', 'data.token'], both), 'C');
    assert.equal(find(['header:authorization', 'data.token'], both), 'H');
    assert.equal(find(all, request({ cookie: 'access_token=C' }, { bytes: '{"token":""}' })), 'C');
    assert.equal(find(all, request({})), undefined);
  });

  it('data: only a non-empty string field of a JSON object, parsed or from bytes', () => {
    assert.equal(find(['data.token'], request({}, { bytes: 'ignored', parsed: { token: 'P' } })), 'P');
    assert.equal(find(['data.token'], request({}, { bytes: '{"token":5}' })), undefined);
    assert.equal(find(['data.token'], request({}, { bytes: '["token"]' })), undefined);
    assert.equal(find(['data.token'], request({}, { bytes: 'null' })), undefined);
    assert.equal(find(['data.token'], request({}, { bytes: '"token"' })), undefined);
    assert.equal(find(['data.token'], request({}, { bytes: 'not json' })), undefined);
    assert.equal(find(['data.token', 'header:x-t'], request({ 'x-t': 'X' }, { bytes: 'not json' })), 'X');
  });

  it('header: Bearer in any case with surrounding space; Authorization needs Bearer, other headers carry the token', () => {
    assert.equal(find(['header:authorization'], request({ authorization: 'bEaReR   abc  ' })), 'abc');
    assert.equal(find(['header:authorization'], request({ authorization: 'abc' })), undefined);
    assert.equal(find(['header:authorization'], request({ authorization: 'Bearer a b' })), undefined);
    assert.equal(find(['header:authorization'], request({ authorization: 'xBearer abc' })), undefined);
    assert.equal(find(['header:authorization'], request({ authorization: '' })), undefined);
    assert.equal(find(['header:x-token'], request({ 'x-token': '  raw  ' })), 'raw');
    assert.equal(find(['header:x-token'], request({ 'x-token': 'Bearer inner' })), 'inner');
    assert.equal(find(['header:x-token', 'cookie:t'], request({ 'x-token': '   ', cookie: 't=C' })), 'C');
    assert.equal(find(['header:x-token', 'cookie:t'], request({ cookie: 't=C' })), 'C');
  });

  it('cookie: by exact name, trimmed, URI-decoded when it decodes, else raw', () => {
    const cookie = (header: string) => find(['cookie:t'], request({ cookie: header }));
    assert.equal(cookie('a=1; t=two%20words ; b=3'), 'two words');
    assert.equal(cookie('tt=1;t=2'), '2');
    assert.equal(cookie(' t =x'), 'x');
    assert.equal(cookie('t=%E0%A4%A'), '%E0%A4%A');
    assert.equal(cookie('a=1'), undefined);
    assert.equal(cookie('=t; t'), undefined);
    assert.equal(cookie('t=a=b'), 'a=b');
    assert.equal(cookie('tx'), undefined);
    assert.equal(find(['cookie:t', 'header:x'], request({ cookie: 't=', x: 'X' })), 'X');
    assert.equal(find(['cookie:t'], request({})), undefined);
  });
});
