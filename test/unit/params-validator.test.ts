/** The RPC schema check's messages: every failing place named, unexpected properties too, capped. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileParamsCheck } from '../../src/rpc/params-validator.js';

const check = compileParamsCheck({
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: { title: { type: 'string', minLength: 1 }, tags: { type: 'array', items: { type: 'string' } } },
});

describe('RPC params check messages', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    ['valid data', { title: 'x', tags: ['a'] }, undefined],
    ['a missing property', {}, '/ must have property "title"'],
    ['an unexpected property is named', { title: 'x', owner: 'bob' }, '/ must not have property "owner"'],
    ['every failing place at once', { title: '', tags: [1, 'b', 2] }, '/title must NOT have fewer than 1 characters; /tags/0 must be string; /tags/2 must be string'],
    ['not an object', 'text', '/ must be object'],
    [
      'more than five problems are counted, not listed',
      { title: 1, tags: [1, 2, 3, 4, 5, 6] },
      '/title must be string; /tags/0 must be string; /tags/1 must be string; /tags/2 must be string; /tags/3 must be string; and 2 more',
    ],
  ];
  for (const [note, data, expected] of cases) {
    it(note, () => assert.equal(check(data), expected));
  }
});
