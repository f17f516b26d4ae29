/**
 * Results a handler hands out unchanged on many requests (the connect answer of a repeated token:
 * same identity, same channels). Such a result is frozen and marked here, so each transport can
 * keep its encoding of it instead of encoding the same object again on every request.
 */
const stable = new WeakSet<object>();

export function markStable<T extends object>(result: T): Readonly<T> {
  stable.add(Object.freeze(result));
  return result;
}

/** An encoding per stable object and binary flag; other objects are encoded every time. */
export class StableEncodings<Encoded> {
  private readonly json = new WeakMap<object, Encoded>();
  private readonly binary = new WeakMap<object, Encoded>();

  get(result: object, binary: boolean, encode: () => Encoded): Encoded {
    if (!stable.has(result)) return encode();
    const cache = binary ? this.binary : this.json;
    let encoded = cache.get(result);
    if (encoded === undefined) {
      encoded = encode();
      cache.set(result, encoded);
    }
    return encoded;
  }
}
