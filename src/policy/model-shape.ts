/**
 * Which evaluator a model gets. The indexed engine implements exactly one shape — the default
 * model (request `sub, obj, act`; policy `sub, obj, act, eft`; one `g = _, _`; deny overrides;
 * matcher `r.act == p.act && g(r.sub, p.sub) && objectMatch(r.obj, p.obj, r.sub)`, with its
 * three conditions in any order and any spacing). Anything else runs on plain casbin, which
 * understands every model but scans every rule per decision.
 */
import { newModelFromString } from 'casbin';

export type ModelShape = { readonly indexable: true } | { readonly indexable: false; readonly reason: string };

const CONDITIONS = ['r.act==p.act', 'g(r.sub,p.sub)', 'objectMatch(r.obj,p.obj,r.sub)'];
const DENY_OVERRIDE = 'some(where(p.eft==allow))&&!some(where(p.eft==deny))';

/** Without spaces, and with casbin's internal `r_sub` spelled back as `r.sub`. */
const compact = (text: string | undefined) => (text ?? '').replace(/\s+/g, '').replace(/\b([rp])_(\w)/g, '$1.$2');

function sectionValue(model: ReturnType<typeof newModelFromString>, section: string, key: string): string | undefined {
  return model.model.get(section)?.get(key)?.value;
}

export function modelShape(modelText: string): ModelShape {
  let model;
  try {
    model = newModelFromString(modelText);
  } catch (err) {
    return { indexable: false, reason: `model does not parse: ${(err as Error).message}` };
  }
  const not = (reason: string): ModelShape => ({ indexable: false, reason });
  if (compact(sectionValue(model, 'r', 'r')) !== 'sub,obj,act') return not('request_definition is not "r = sub, obj, act"');
  if (compact(sectionValue(model, 'p', 'p')) !== 'sub,obj,act,eft') return not('policy_definition is not "p = sub, obj, act, eft"');
  if ((model.model.get('p')?.size ?? 0) !== 1) return not('more than one policy type');
  if (compact(sectionValue(model, 'g', 'g')) !== '_,_' || (model.model.get('g')?.size ?? 0) !== 1) {
    return not('role_definition is not exactly "g = _, _"');
  }
  if (compact(sectionValue(model, 'e', 'e')) !== DENY_OVERRIDE) return not('policy_effect is not deny-override');
  if ((model.model.get('m')?.size ?? 0) !== 1) return not('more than one matcher');
  const conditions = compact(sectionValue(model, 'm', 'm')).split('&&');
  if (conditions.length !== CONDITIONS.length || !CONDITIONS.every((c) => conditions.includes(c))) {
    return not(`matcher is not "${CONDITIONS.join(' && ')}"`);
  }
  return { indexable: true };
}
