// A bounded LRU cache of aligned chunks in front of a BlockDevice. Filesystem drivers read many
// small structures (inodes, directory blocks, FAT sectors); this turns them into few large reads.
import type { BlockDevice } from '../block/blockDevice';

export class CachedDevice implements BlockDevice {
  private readonly chunks = new Map<number, Promise<Uint8Array>>();

  constructor(private readonly base: BlockDevice, private readonly chunkSize = 64 * 1024, private readonly maxChunks = 256) {}

  get size(): number { return this.base.size; }

  private chunk(index: number): Promise<Uint8Array> {
    let p = this.chunks.get(index);
    if (p) {
      this.chunks.delete(index); // move to most-recently used
      this.chunks.set(index, p);
      return p;
    }
    const start = index * this.chunkSize;
    p = this.base.read(start, Math.min(this.chunkSize, this.base.size - start));
    p.catch(() => this.chunks.delete(index));
    this.chunks.set(index, p);
    if (this.chunks.size > this.maxChunks) this.chunks.delete(this.chunks.keys().next().value!);
    return p;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    // Large reads (file contents) bypass the cache so they do not evict metadata.
    if (length >= this.chunkSize * 2 || offset < 0 || offset + length > this.base.size) return this.base.read(offset, length);
    const first = Math.floor(offset / this.chunkSize);
    const last = Math.floor((offset + length - 1) / this.chunkSize);
    if (length === 0) return new Uint8Array(0);
    if (first === last) {
      const c = await this.chunk(first);
      const s = offset - first * this.chunkSize;
      return c.slice(s, s + length);
    }
    const out = new Uint8Array(length);
    for (let i = first; i <= last; i++) {
      const c = await this.chunk(i);
      const cStart = i * this.chunkSize;
      const from = Math.max(offset, cStart);
      const to = Math.min(offset + length, cStart + c.length);
      out.set(c.subarray(from - cStart, to - cStart), from - offset);
    }
    return out;
  }

  close(): Promise<void> { return this.base.close(); }
}
