// A small least-recently-used cache with a byte budget: metadata tables and decompressed clusters
// of hostile images can be large, so the bound is in bytes, not entries.
export class LruCache<K, V extends { byteLength: number }> {
  private readonly map = new Map<K, V>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) { this.map.delete(key); this.map.set(key, v); }
    return v;
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) { this.bytes -= old.byteLength; this.map.delete(key); }
    this.map.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes || this.map.size <= 1) break;
      this.map.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  clear(): void { this.map.clear(); this.bytes = 0; }
}

/**
 * Memoizes an async loader per key through an LRU: concurrent readers of the same table share one
 * read, and a failed load is not cached.
 */
export class AsyncLru<K, V extends { byteLength: number }> {
  private readonly cache: LruCache<K, V>;
  private readonly pending = new Map<K, Promise<V>>();

  constructor(maxBytes: number) { this.cache = new LruCache(maxBytes); }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.pending.get(key);
    if (!p) {
      p = load().then(
        (v) => { this.pending.delete(key); this.cache.set(key, v); return v; },
        (e: unknown) => { this.pending.delete(key); throw e; },
      );
      this.pending.set(key, p);
    }
    return p;
  }

  clear(): void { this.cache.clear(); }
}
