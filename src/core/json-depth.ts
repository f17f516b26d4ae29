/**
 * A nesting limit for JSON that clients control (publish and rpc data, connect data, JSON in
 * b64data). Deep input is harmless to parse but not to use: JSON.stringify, schema checks and
 * cache keys recurse, and 5,000 nested arrays overflow the stack. The checks here never recurse,
 * so they cannot overflow whatever they are given.
 */

/** Far more than any application payload needs, far less than what overflows a recursion. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text nests arrays and objects at most `max` levels deep. One pass over the bytes,
 * brackets inside strings ignored; text that is not JSON gets an answer too (the parser refuses
 * it next). UTF-8 never puts these ASCII bytes inside a multi-byte character.
 */
export function jsonTextWithinDepth(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > max) return false;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) depth--;
  }
  return true;
}

/** The same for a value already parsed: an explicit stack instead of recursion. */
export function jsonValueWithinDepth(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  const stack: Array<[object, number]> = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next;
    if (depth > max) return false;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child as object, depth + 1]);
    }
  }
  return true;
}

/** Whether bytes look like JSON text (first non-blank byte opens an object or array). */
export function looksLikeJsonContainer(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === OPEN_BRACE || b === OPEN_BRACKET;
  }
  return false;
}
