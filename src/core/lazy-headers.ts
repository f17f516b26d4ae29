/**
 * Request headers as handlers see them (connect's token sources, rpc header forwarding, rate
 * limits by address), made into a map only when one asks: subscribe, publish and the other
 * cached decisions never do, and a map per request showed in their profiles. Each transport
 * says how its headers become the map.
 */
import type { Headers } from './messages.js';

export abstract class LazyHeaders implements Headers {
  private map: Map<string, string> | undefined;

  /** The map, built once, on the first question. */
  protected abstract build(): Map<string, string>;

  private built(): Map<string, string> {
    return (this.map ??= this.build());
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
