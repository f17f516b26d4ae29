/**
 * Object patterns in policy lines: `*` matches any run of characters (none included, `:` too);
 * `{user}` stands for the requesting user's ID, matched literally (a user ID containing `*`
 * is never treated as a wildcard). Anonymous requests (user "") never match a `{user}` pattern,
 * so `personal:{user}` cannot open `personal:` to everyone without a token.
 */
type Token = { kind: 'literal'; text: string } | { kind: 'star' } | { kind: 'user' };

export const USER_PLACEHOLDER = '{user}';

export interface ObjectPattern {
  readonly source: string;
  /** Literal text before the first `*` or `{user}`: the index key for prefix lookups. */
  readonly literalPrefix: string;
  readonly usesUser: boolean;
  matches(object: string, user: string): boolean;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  for (let i = 0; i < source.length; ) {
    if (source.startsWith(USER_PLACEHOLDER, i)) {
      if (literal) tokens.push({ kind: 'literal', text: literal });
      literal = '';
      tokens.push({ kind: 'user' });
      i += USER_PLACEHOLDER.length;
    } else if (source[i] === '*') {
      if (literal) tokens.push({ kind: 'literal', text: literal });
      literal = '';
      // Consecutive stars mean the same as one.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      i += 1;
    } else {
      literal += source[i];
      i += 1;
    }
  }
  if (literal) tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

/** Backtracking glob match over tokens; linear in practice (at most one star backtrack point). */
function matchTokens(tokens: readonly Token[], object: string, user: string): boolean {
  let ti = 0;
  let oi = 0;
  let starTi = -1;
  let starOi = 0;
  while (oi < object.length || ti < tokens.length) {
    const token = tokens[ti];
    if (token !== undefined) {
      if (token.kind === 'star') {
        starTi = ti;
        starOi = oi;
        ti += 1;
        continue;
      }
      const text = token.kind === 'literal' ? token.text : user;
      if (object.startsWith(text, oi)) {
        ti += 1;
        oi += text.length;
        continue;
      }
    }
    // Mismatch: let the last star swallow one more character, or fail.
    if (starTi < 0 || starOi >= object.length) return false;
    starOi += 1;
    oi = starOi;
    ti = starTi + 1;
  }
  return true;
}

type Matcher = ObjectPattern['matches'];

const literalText = (token: Token | undefined): string | undefined => (token?.kind === 'literal' ? token.text : undefined);

/**
 * A matcher without the backtracking loop for the shapes policies mostly use (`chat:*`,
 * `*:admin`, `*`, `*{user}*`, `a*b`); undefined for the rest.
 */
function shapedMatcher(tokens: readonly Token[]): Matcher | undefined {
  const [first, second, third] = tokens;
  const kinds = tokens.map((t) => t.kind).join(' ');
  const head = literalText(first) ?? '';
  switch (kinds) {
    case 'star':
      return () => true;
    case 'literal star':
      return (object) => object.startsWith(head);
    case 'star literal': {
      const tail = literalText(second) ?? '';
      return (object) => object.endsWith(tail);
    }
    case 'literal star literal': {
      const tail = literalText(third) ?? '';
      // The star may match nothing, but head and tail may not overlap.
      return (object) => object.length >= head.length + tail.length && object.startsWith(head) && object.endsWith(tail);
    }
    case 'star user star':
      return (object, user) => user !== '' && object.includes(user);
    default:
      return undefined;
  }
}

export function compileObjectPattern(source: string): ObjectPattern {
  const tokens = tokenize(source);
  const usesUser = tokens.some((t) => t.kind === 'user');
  const first = tokens[0];
  const literalPrefix = first?.kind === 'literal' ? first.text : '';
  const onlyLiteral = tokens.length <= 1 && (first === undefined || first.kind === 'literal');
  const general: Matcher = (object, user) => (usesUser && user === '' ? false : matchTokens(tokens, object, user));
  return {
    source,
    literalPrefix,
    usesUser,
    matches: onlyLiteral ? (object) => object === source : (shapedMatcher(tokens) ?? general),
  };
}

/** Compiled patterns shared by every evaluation of one policy version. */
export class PatternCache {
  private readonly compiled = new Map<string, ObjectPattern>();

  get(source: string): ObjectPattern {
    let pattern = this.compiled.get(source);
    if (!pattern) {
      pattern = compileObjectPattern(source);
      this.compiled.set(source, pattern);
    }
    return pattern;
  }
}
