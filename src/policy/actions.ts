/** The six questions Centrifugo's proxy events become, and help for a misspelt one. */
export const ACTIONS: readonly string[] = ['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc'];
/** Actions whose object is a channel name. */
export const CHANNEL_ACTIONS: ReadonlySet<string> = new Set(['subscribe', 'publish', 'sub_refresh']);
/** Actions whose object is always "". */
export const EMPTY_OBJECT_ACTIONS: ReadonlySet<string> = new Set(['connect', 'refresh']);

/** Levenshtein distance, enough for one-word typos. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known action an unknown one is probably a typo of, if any. */
export function nearestAction(action: string): string | undefined {
  if (ACTIONS.includes(action)) return undefined;
  const nearest = [...ACTIONS].sort((a, b) => distance(action, a) - distance(action, b))[0] ?? '';
  // A prefix counts when there is one: every action starts with "".
  return distance(action, nearest) <= 2 || (action !== '' && nearest.startsWith(action.toLowerCase())) ? nearest : undefined;
}

/** `unknown action "publsh" (did you mean "publish"?)`, or undefined for a known action. */
export function unknownAction(action: string): string | undefined {
  if (ACTIONS.includes(action)) return undefined;
  const nearest = nearestAction(action);
  const hint = nearest ? ` (did you mean "${nearest}"?)` : '';
  return `unknown action "${action}"${hint}: actions are ${ACTIONS.join(', ')}`;
}
