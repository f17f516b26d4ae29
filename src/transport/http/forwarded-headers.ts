/**
 * The request headers handlers may read (connect's token sources, rpc header forwarding, rate
 * limits by address), built from node's raw list only when one asks: subscribe, publish and the
 * other cached decisions never do, and a map per request showed in their profile.
 */
import type { Headers } from '../../core/messages.js';

export class ForwardedHeaders implements Headers {
  private map: Map<string, string> | undefined;

  /** `raw` is node's rawHeaders; `callerHeader` (lowercase) is left out: the secret must reach nothing else. */
  constructor(
    private readonly raw: readonly string[],
    private readonly callerHeader: string,
  ) {}

  private built(): Map<string, string> {
    if (this.map) return this.map;
    const map = new Map<string, string>();
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (name === this.callerHeader) continue;
      map.set(name, joinRepeated(name, map.get(name), raw[i + 1] as string));
    }
    this.map = map;
    return map;
  }

  get(name: string): string | undefined {
    return this.built().get(name);
  }

  has(name: string): boolean {
    return this.built().has(name);
  }

  get size(): number {
    return this.built().size;
  }

  forEach(callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.built()) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[string, string]> {
    return this.built().entries();
  }

  keys(): MapIterator<string> {
    return this.built().keys();
  }

  values(): MapIterator<string> {
    return this.built().values();
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.built()[Symbol.iterator]();
  }
}

/** Repeated headers are joined as node joins them: cookies with "; ", the rest with ", ". */
export function joinRepeated(name: string, seen: string | undefined, value: string): string {
  return seen === undefined ? value : `${seen}${name === 'cookie' ? '; ' : ', '}${value}`;
}
