/**
 * A Map whose values are compiled on first `get`; iterating it compiles them all. Keys (and their order, the
 * manifest's) are known at once, so `has`, `keys` and `size` compile nothing. With `rest`, the entries it lists
 * (after the first ones) are only listed when a key the first ones lack is asked for, or the map is read whole.
 */
export class LazyMap<K, V> extends Map<K, V> {
  private readonly pending: Map<K, () => V>;
  private rest: (() => [K, () => V][]) | undefined;
  constructor(entries: [K, () => V][], rest?: () => [K, () => V][]) {
    super();
    this.pending = new Map(entries);
    for (const [key] of entries) super.set(key, undefined as V);
    this.rest = rest;
  }
  /** Lists the rest's entries (once), after those already known. */
  private listRest(): void {
    const rest = this.rest;
    if (!rest) return;
    this.rest = undefined;
    for (const [key, thunk] of rest()) {
      if (super.has(key)) continue;
      this.pending.set(key, thunk);
      super.set(key, undefined as V);
    }
  }
  override get(key: K): V | undefined {
    if (this.rest && !super.has(key)) this.listRest();
    const thunk = this.pending.get(key);
    if (thunk) {
      super.set(key, thunk());
      this.pending.delete(key);
    }
    return super.get(key);
  }
  override has(key: K): boolean {
    if (this.rest && !super.has(key)) this.listRest();
    return super.has(key);
  }
  override get size(): number {
    this.listRest();
    return super.size;
  }
  override keys(): MapIterator<K> {
    this.listRest();
    return super.keys();
  }
  override set(key: K, value: V): this {
    this.listRest();
    this.pending.delete(key);
    return super.set(key, value);
  }
  private resolveAll(): void {
    this.listRest();
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
