/**
 * A Map whose values are compiled on first `get`; iterating it compiles them all. Keys (and their order, the
 * manifest's) are known at once, so `has`, `keys` and `size` compile nothing.
 */
export class LazyMap<K, V> extends Map<K, V> {
  private readonly pending: Map<K, () => V>;
  constructor(entries: [K, () => V][]) {
    super();
    this.pending = new Map(entries);
    for (const [key] of entries) super.set(key, undefined as V);
  }
  override get(key: K): V | undefined {
    const thunk = this.pending.get(key);
    if (thunk) {
      super.set(key, thunk());
      this.pending.delete(key);
    }
    return super.get(key);
  }
  override set(key: K, value: V): this {
    this.pending.delete(key);
    return super.set(key, value);
  }
  private resolveAll(): void {
    for (const key of [...this.pending.keys()]) this.get(key);
  }
  override values(): MapIterator<V> {
    this.resolveAll();
    return super.values();
  }
  override entries(): MapIterator<[K, V]> {
    this.resolveAll();
    return super.entries();
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.resolveAll();
    super.forEach(fn, thisArg);
  }
}
