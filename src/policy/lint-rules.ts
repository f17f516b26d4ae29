/** Lint checks of one `p` line on its own: its action, its object pattern and its subject. */
import { CHANNEL_ACTIONS, EMPTY_OBJECT_ACTIONS, unknownAction } from './actions.js';
import { compileObjectPattern, USER_PLACEHOLDER } from './object-pattern.js';
import type { RoleNamePredicate } from './role-names.js';

/** Centrifugo's default channel.max_length: a longer channel is refused before any proxy call. */
export const CHANNEL_MAX_LENGTH = 255;

/** Role-like names: `tenant:acme`, `group/ops`, or a common role word. */
const ROLE_SHAPED = /^[A-Za-z][\w-]*[:/]./;
const ROLE_WORDS = /^(admins?|administrators?|superusers?|moderators?|mods?|members?|editors?|viewers?|readers?|writers?|guests?|staff|owners?|managers?|operators?|support|banned)$/i;

export const looksLikeRole = (name: string): boolean => ROLE_SHAPED.test(name) || ROLE_WORDS.test(name);

/** Why a pattern can never match the object of `action`, or undefined. */
function neverMatches(action: string, pattern: string): string | undefined {
  if (EMPTY_OBJECT_ACTIONS.has(action)) {
    const compiled = compileObjectPattern(pattern);
    if (!compiled.matches('', '') && !compiled.matches('', 'u')) {
      return `never matches: the object of ${action} is always "" and "${pattern}" cannot match it (write *)`;
    }
    return undefined;
  }
  if (!CHANNEL_ACTIONS.has(action)) return undefined;
  if (/\s/.test(pattern)) return `never matches: "${pattern}" contains whitespace, which no channel name holds (a stray space or a trailing comment?)`;
  const fixed = pattern.replaceAll(USER_PLACEHOLDER, '').replaceAll('*', '').length;
  if (fixed > CHANNEL_MAX_LENGTH) return `never matches: "${pattern}" needs at least ${fixed} characters, more than Centrifugo's default channel.max_length (${CHANNEL_MAX_LENGTH})`;
  return undefined;
}

/** Problems of one p line `[subject, pattern, action, effect]`. */
export function pLineProblems(values: readonly string[], isRole: RoleNamePredicate, prefixes: readonly string[]): string[] {
  const [subject = '', pattern = '', action = ''] = values;
  const problems: string[] = [];
  if (action === '*') problems.push('action "*" is not a wildcard: actions are compared exactly, so this line never matches (write one line per action)');
  else {
    const unknown = unknownAction(action);
    if (unknown) problems.push(`${unknown}; this line never matches`);
  }
  const never = neverMatches(action, pattern);
  if (never) problems.push(never);
  if (!isRole(subject) && looksLikeRole(subject)) {
    const listed = prefixes.length > 0 ? prefixes.join(', ') : 'none';
    problems.push(
      `subject "${subject}" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (${listed}); a user with that ID would get this line`,
    );
  }
  return problems;
}
