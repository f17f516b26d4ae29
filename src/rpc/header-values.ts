/**
 * Identity headers for RPC upstreams carry values from clients and identity providers (the
 * method name, the user ID, connection meta) that may hold any character. A header value must be
 * visible ASCII (undici refuses control characters and anything past U+00FF): sent raw, such a
 * call failed before reaching the upstream, answered 503 and counted against the route's
 * breaker, so a few calls by one user opened it for everyone.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Everything but printable ASCII, and `%` itself so that decoding is never ambiguous. */
const NEEDS_ESCAPE = /[^\x20-\x24\x26-\x7e]+/g;

/** Percent-encoded UTF-8 where needed: `decodeURIComponent(header)` always gives the value back. */
export function headerText(value: string): string {
  NEEDS_ESCAPE.lastIndex = 0;
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(LONE_SURROGATE, '\ufffd').replace(NEEDS_ESCAPE, (run) => encodeURIComponent(run));
}

/** JSON with every non-ASCII character as a \u escape: the same value, and a valid header. */
export function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
