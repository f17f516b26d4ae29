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

/** No problems: shared, so the many clean lines of a large policy allocate nothing. */
const NONE: readonly string[] = Object.freeze([]);

/**
 * The checks of one p line `[subject, pattern, action, effect]`, for one lint run. A large policy
 * repeats the same (action, pattern) and subject on thousands of lines: each message is built
 * once and shared, so a reload keeps one copy of each text rather than tens of thousands (they
 * live until the end of lint, and copying them through the young generation is what stalls
 * requests during a reload).
 */
export function pLineChecker(isRole: RoleNamePredicate, prefixes: readonly string[]): (values: readonly string[]) => readonly string[] {
  const neverByAction = new Map<string, Map<string, string | undefined>>();
  const roleShaped = new Map<string, string | undefined>();
  const listed = prefixes.length > 0 ? prefixes.join(', ') : 'none';
  const never = (action: string, pattern: string) => {
    let byPattern = neverByAction.get(action);
    if (!byPattern) neverByAction.set(action, (byPattern = new Map()));
    if (!byPattern.has(pattern)) byPattern.set(pattern, neverMatches(action, pattern));
    return byPattern.get(pattern);
  };
  const userIdLookingLikeRole = (subject: string) => {
    if (!roleShaped.has(subject)) {
      roleShaped.set(
        subject,
        !isRole(subject) && looksLikeRole(subject)
          ? `subject "${subject}" looks like a role but is treated as a user ID: no g line grants it and it has no policy.role_prefixes prefix (${listed}); a user with that ID would get this line`
          : undefined,
      );
    }
    return roleShaped.get(subject);
  };
  return (values) => {
    const [subject = '', pattern = '', action = ''] = values;
    const unknown = action === '*' ? ACTION_STAR : unknownActionProblem(action);
    const unmatched = never(action, pattern);
    const roleLike = userIdLookingLikeRole(subject);
    if (unknown === undefined && unmatched === undefined && roleLike === undefined) return NONE;
    const problems: string[] = [];
    if (unknown !== undefined) problems.push(unknown);
    if (unmatched !== undefined) problems.push(unmatched);
    if (roleLike !== undefined) problems.push(roleLike);
    return problems;
  };
}

const ACTION_STAR = 'action "*" is not a wildcard: actions are compared exactly, so this line never matches (write one line per action)';

const unknownActionProblem = (action: string): string | undefined => {
  const unknown = unknownAction(action);
  return unknown ? `${unknown}; this line never matches` : undefined;
};
