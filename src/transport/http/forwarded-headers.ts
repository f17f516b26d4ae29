/** The headers of an HTTP proxy request, from node's raw list, built only when a handler asks. */
import { LazyHeaders } from '../../core/lazy-headers.js';

export class ForwardedHeaders extends LazyHeaders {
  /** `raw` is node's rawHeaders; `callerHeader` (lowercase) is left out: the secret must reach nothing else. */
  constructor(
    private readonly raw: readonly string[],
    private readonly callerHeader: string,
  ) {
    super();
  }

  protected build(): Map<string, string> {
    const map = new Map<string, string>();
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (name === this.callerHeader) continue;
      map.set(name, joinRepeated(name, map.get(name), raw[i + 1] as string));
    }
    return map;
  }
}

/** Repeated headers are joined as node joins them: cookies with "; ", the rest with ", ". */
export function joinRepeated(name: string, seen: string | undefined, value: string): string {
  return seen === undefined ? value : `${seen}${name === 'cookie' ? '; ' : ', '}${value}`;
}
