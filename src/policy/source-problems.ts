/**
 * Every problem of a policy that does not load, not only the first: engines stop at the first
 * bad line (a reload needs nothing more), and this pass, run only after such a failure, lists
 * them all for `check` and the reload error. Lines of a model of another shape are checked by
 * casbin's build, which stops at the first: then that one is all there is.
 */
import { readFileSync } from 'node:fs';
import { validateRule } from './indexed-engine.js';
import { modelShape } from './model-shape.js';
import { parsePolicyText, policyFiles, PolicySourceError } from './policy-source.js';

export function allSourceProblems(model: string, policyPath: string, first: PolicySourceError): string[] {
  let modelText: string;
  let files: string[];
  try {
    modelText = readFileSync(model, 'utf8');
    files = policyFiles(policyPath);
  } catch {
    return [first.describe()];
  }
  const problems: string[] = [];
  const indexable = modelShape(modelText).indexable;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [first.describe()];
    }
    const rules = parsePolicyText(text, file, (problem) => problems.push(problem.describe()));
    if (!indexable) continue;
    for (const rule of rules) {
      try {
        validateRule(rule);
      } catch (err) {
        if (!(err instanceof PolicySourceError)) throw err;
        problems.push(err.describe());
      }
    }
  }
  // The model itself, or a line only casbin's own build refuses.
  return problems.includes(first.describe()) ? problems : [first.describe(), ...problems];
}
