/**
 * Which models the index evaluates (model-shape.ts): the shipped model in any spacing and
 * condition order, and nothing else — every other model runs on casbin, with the reason `check`
 * prints. A model wrongly called indexable would be answered with the default model's semantics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelShape } from '../../src/policy/model-shape.js';
import { DEFAULT_MODEL } from '../helpers/policy-generator.js';

const MATCHER = 'm = r.act == p.act && g(r.sub, p.sub) && objectMatch(r.obj, p.obj, r.sub)';
const withMatcher = (line: string) => DEFAULT_MODEL.replace(MATCHER, line);
const MATCHER_REASON = 'matcher is not "r.act==p.act && g(r.sub,p.sub) && objectMatch(r.obj,p.obj,r.sub)"';

// [what, model text, reason or null when indexable]
const CASES: Array<[string, string, string | null]> = [
  ['the shipped model', DEFAULT_MODEL, null],
  ['conditions in another order', withMatcher('m = objectMatch(r.obj, p.obj, r.sub) && g(r.sub, p.sub) && r.act == p.act'), null],
  ['no spaces at all', withMatcher('m=r.act==p.act&&g(r.sub,p.sub)&&objectMatch(r.obj,p.obj,r.sub)'), null],
  ['more spaces and tabs', withMatcher('m =  r.act  ==\tp.act &&   g( r.sub , p.sub )&& objectMatch( r.obj, p.obj, r.sub )'), null],
  ['a request with a domain', DEFAULT_MODEL.replace('r = sub, obj, act', 'r = sub, dom, obj, act'), 'request_definition is not "r = sub, obj, act"'],
  ['request fields in another order', DEFAULT_MODEL.replace('r = sub, obj, act', 'r = obj, sub, act'), 'request_definition is not "r = sub, obj, act"'],
  ['a policy without an effect field', DEFAULT_MODEL.replace('p = sub, obj, act, eft', 'p = sub, obj, act'), 'policy_definition is not "p = sub, obj, act, eft"'],
  ['a second policy type', DEFAULT_MODEL.replace('p = sub, obj, act, eft', 'p = sub, obj, act, eft\np2 = sub, obj, act, eft'), 'more than one policy type'],
  ['a three-place role definition', DEFAULT_MODEL.replace('g = _, _', 'g = _, _, _'), 'role_definition is not exactly "g = _, _"'],
  ['a second role definition', DEFAULT_MODEL.replace('g = _, _', 'g = _, _\ng2 = _, _'), 'role_definition is not exactly "g = _, _"'],
  ['only a g2 role definition', DEFAULT_MODEL.replace('g = _, _', 'g2 = _, _'), 'role_definition is not exactly "g = _, _"'],
  ['no role definition', DEFAULT_MODEL.replace(/\[role_definition\][^[]*/, ''), 'role_definition is not exactly "g = _, _"'],
  ['allow-override', DEFAULT_MODEL.replace(' && !some(where (p.eft == deny))', ''), 'policy_effect is not deny-override'],
  ['priority effect', DEFAULT_MODEL.replace('e = some(where (p.eft == allow)) && !some(where (p.eft == deny))', 'e = priority(p.eft) || deny'), 'policy_effect is not deny-override'],
  ['a second matcher', DEFAULT_MODEL.replace(MATCHER, `${MATCHER}\nm2 = r.act == p.act`), 'more than one matcher'],
  ['a fourth condition', withMatcher(`${MATCHER} && r.sub != "banned"`), MATCHER_REASON],
  ['two of the three conditions', withMatcher('m = r.act == p.act && g(r.sub, p.sub)'), MATCHER_REASON],
  ['one condition twice instead of another', withMatcher('m = r.act == p.act && g(r.sub, p.sub) && r.act == p.act'), MATCHER_REASON],
  ['keyMatch instead of objectMatch', withMatcher('m = r.act == p.act && g(r.sub, p.sub) && keyMatch(r.obj, p.obj)'), MATCHER_REASON],
  ['an or instead of an and', withMatcher('m = r.act == p.act || g(r.sub, p.sub) && objectMatch(r.obj, p.obj, r.sub)'), MATCHER_REASON],
];

describe('which models the index evaluates', () => {
  for (const [what, text, reason] of CASES) {
    it(`${what}: ${reason ?? 'indexable'}`, () => {
      assert.deepEqual(modelShape(text), reason === null ? { indexable: true } : { indexable: false, reason });
    });
  }

  it('a model that does not parse runs nowhere indexed, and says why', () => {
    assert.deepEqual(modelShape('[request_definition]\nr = sub, obj, act\n'), {
      indexable: false,
      reason: 'model does not parse: missing required sections: policy_definition,policy_effect,matchers',
    });
  });
});
