// Reads a qcow2 virtual disk through its two-level cluster tables. One Qcow2Tables object holds
// the file, header facts and caches; a device is that plus one L1 table (the active one, or a
// snapshot's), so snapshot views share the L2 and decompressed-cluster caches.
import { availableParallelism } from 'node:os';
import { ImageError } from '../blockDevice';
import { inflateRawUnit, zstdUnit } from '../compression';
import { inflateBatch } from '../inflatePool';
import { zstdDeclaredSize, zstdFrameLength } from '../zstdDecoder';
import { ZstdTool } from '../zstdTool';
import { type Extent, ExtentDevice, type StoredUnit } from '../extentDevice';
import type { FileDevice } from '../fileDevice';
import { AsyncLru } from '../lruCache';
import type { Qcow2Header } from './header';

const L2_CACHE_BYTES = 8 * 1024 * 1024;
const CLUSTER_CACHE_BYTES = 8 * 1024 * 1024;
const TWO32 = 2 ** 32;
const ZSTD_TOOL_MIN_BYTES = 1024 * 1024;
/** Helper processes for bulk zstd: batches in flight spread over them. Native zstd is fast: two suffice. */
const ZSTD_TOOLS = Math.min(2, availableParallelism());

export class Qcow2Tables {
  readonly clusterSize: number;
  readonly l2Entries: number;
  readonly entryBytes: number;
  /** Allocation granularity: a subcluster with extended L2, else a cluster. */
  readonly unit: number;
  private readonly l2Cache = new AsyncLru<number, Uint8Array>(L2_CACHE_BYTES);
  private readonly clusterCache = new AsyncLru<number, Uint8Array>(CLUSTER_CACHE_BYTES);
  private readonly csizeShift: number;
  private readonly zstdTools: ZstdTool[] = [];
  private readonly csizeMask: number;

  constructor(readonly file: FileDevice, readonly header: Qcow2Header) {
    this.clusterSize = header.clusterSize;
    this.entryBytes = header.extendedL2 ? 16 : 8;
    this.l2Entries = this.clusterSize / this.entryBytes;
    this.unit = header.extendedL2 ? this.clusterSize / 32 : this.clusterSize;
    this.csizeShift = 62 - (header.clusterBits - 8);
    this.csizeMask = (1 << (header.clusterBits - 8)) - 1;
  }

  /** Stops the helper process, if one was started. */
  dispose(): void { for (const t of this.zstdTools.splice(0)) t.close(); }

  /** The least busy zstd helper, starting another while some core has none. */
  private zstdTool(): ZstdTool {
    let best = this.zstdTools[0];
    for (const t of this.zstdTools) if (t.pending < best.pending) best = t;
    if ((!best || best.pending > 0) && this.zstdTools.length < ZSTD_TOOLS) this.zstdTools.push(best = new ZstdTool());
    return best;
  }

  /** Reads an L1 table into host offsets of L2 tables (0: none). */
  async readL1(offset: number, entries: number, what: string): Promise<Float64Array> {
    const raw = entries ? await this.file.read(offset, entries * 8) : new Uint8Array(0);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const l1 = new Float64Array(entries);
    for (let i = 0; i < entries; i++) {
      const hi = dv.getUint32(i * 8), lo = dv.getUint32(i * 8 + 4);
      const off = (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
      if (off !== 0 && off % this.clusterSize !== 0) {
        throw new ImageError(`${what} entry ${i} points to an unaligned L2 table at ${off}`, what, offset + i * 8);
      }
      if (off !== 0 && off + this.clusterSize > this.file.size) {
        throw new ImageError(`${what} entry ${i} points to an L2 table at ${off}, past the end of the file`, what, offset + i * 8);
      }
      l1[i] = off;
    }
    return l1;
  }

  l2(offset: number): Promise<Uint8Array> {
    return this.l2Cache.get(offset, () => this.file.read(offset, this.clusterSize));
  }

  /** Host offset and stored size of the compressed cluster an L2 entry (hi:lo) describes. */
  private compressedLocation(hi: number, lo: number, where: number): { coffset: number; csize: number } {
    const entry = (BigInt(hi) << 32n) | BigInt(lo);
    const coffset = Number(entry & ((1n << BigInt(this.csizeShift)) - 1n));
    const nbSectors = Number((entry >> BigInt(this.csizeShift)) & BigInt(this.csizeMask)) + 1;
    if (coffset >= this.file.size) throw new ImageError(`compressed cluster at ${coffset} is past the end of the file`, 'L2 entry', where);
    return { coffset, csize: Math.min(nbSectors * 512 - (coffset & 511), this.file.size - coffset) };
  }

  /**
   * Many compressed clusters at once (large reads, i.e. conversion): zlib on worker threads
   * (inflatePool.ts), zstd through the native tool (zstdTool.ts). Undefined entries (or a missing tool) fall
   * back to `compressed`, which also reports any corruption precisely.
   */
  async compressedBatch(items: { hi: number; lo: number; where: number }[]): Promise<(Uint8Array | undefined)[]> {
    const zstd = this.header.compressionType === 'zstd';
    // Starting the tool costs a process; below a MiB of output our own decoder is faster.
    if (zstd && items.length * this.clusterSize < ZSTD_TOOL_MIN_BYTES) return [];
    const locs = items.map((i) => this.compressedLocation(i.hi, i.lo, i.where));
    const stored: Uint8Array[] = [];
    // Compressed clusters are usually stored back to back: read the span in one go when it is dense.
    let lo = Infinity, hi = 0, total = 0; // loops, not spreads: a large read can cover ~10^5 clusters
    for (const l of locs) { lo = Math.min(lo, l.coffset); hi = Math.max(hi, l.coffset + l.csize); total += l.csize; }
    const span = hi - lo <= 2 * total + 65536 ? await this.file.read(lo, hi - lo) : undefined;
    for (const l of locs) stored.push(span ? span.subarray(l.coffset - lo, l.coffset - lo + l.csize) : await this.file.read(l.coffset, l.csize));
    if (!zstd) return inflateBatch(stored, this.clusterSize);
    const frames: Uint8Array[] = [];
    try {
      for (const data of stored) {
        // The tool's output is matched to clusters by length, so every frame must promise
        // exactly one cluster (zstd then enforces it); QEMU's frames always do.
        if (zstdDeclaredSize(data) !== this.clusterSize) return [];
        frames.push(data.subarray(0, zstdFrameLength(data)));
      }
    } catch {
      return [];
    }
    const out = await this.zstdTool().decompress(frames, frames.length * this.clusterSize);
    if (!out) return [];
    return frames.map((_, k) => out.subarray(k * this.clusterSize, (k + 1) * this.clusterSize));
  }

  /**
   * Where the compressed cluster lies, for bulk converters; undefined when the entry is bad (the
   * map stays usable, and reading the cluster reports the error through `compressed`).
   */
  storedUnit(hi: number, lo: number, where: number): StoredUnit | undefined {
    try {
      const { coffset, csize } = this.compressedLocation(hi, lo, where);
      return { source: this.file, offset: coffset, length: csize, codec: this.header.compressionType === 'zstd' ? 'zstd' : 'deflate-raw', unitSize: this.clusterSize };
    } catch {
      return undefined;
    }
  }

  /** Decompresses the compressed cluster an L2 entry (hi:lo) describes. */
  compressed(hi: number, lo: number, where: number): Promise<Uint8Array> {
    const { coffset, csize } = this.compressedLocation(hi, lo, where);
    return this.clusterCache.get(coffset, async () => {
      const data = await this.file.read(coffset, csize);
      const what = 'compressed cluster';
      return this.header.compressionType === 'zstd'
        ? zstdUnit(data, this.clusterSize, what, coffset)
        : inflateRawUnit(data, this.clusterSize, what, coffset);
    });
  }
}

type Unit = { kind: 'data'; host: number } | { kind: 'zero' | 'unallocated' } | { kind: 'compressed'; hi: number; lo: number };

export class Qcow2Device extends ExtentDevice {
  constructor(private readonly t: Qcow2Tables, private readonly l1: Float64Array, readonly size: number, private readonly ownsTables = false) {
    super();
  }

  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    const t = this.t, cs = t.clusterSize;
    const ci = Math.floor(offset / cs);
    const l1i = Math.floor(ci / t.l2Entries);
    const spanEnd = Math.min((l1i + 1) * t.l2Entries * cs, offset + maxLength, this.size);
    const l2Offset = l1i < this.l1.length ? this.l1[l1i] : 0;
    if (l2Offset === 0) return { kind: 'unallocated', length: spanEnd - offset };
    const table = await t.l2(l2Offset);
    const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
    const tableBase = l1i * t.l2Entries * cs;

    const classify = (pos: number): Unit => {
      const rel = pos - tableBase;
      const idx = Math.floor(rel / cs);
      const at = idx * t.entryBytes;
      const hi = dv.getUint32(at), lo = dv.getUint32(at + 4);
      const where = l2Offset + at;
      if (hi & 0x40000000) return { kind: 'compressed', hi: hi & 0x3fffffff, lo };
      const host = (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
      if (host % cs !== 0) throw new ImageError(`L2 entry ${idx} points to an unaligned cluster at ${host}`, 'L2 table', where);
      const inCluster = rel - idx * cs;
      if (t.header.extendedL2) {
        const bmHi = dv.getUint32(at + 8), bmLo = dv.getUint32(at + 12); // zero bits 32..63, alloc bits 0..31
        if ((bmHi & bmLo) !== 0) throw new ImageError(`L2 entry ${idx} marks a subcluster both allocated and zero`, 'L2 table', where);
        const sc = Math.floor(inCluster / t.unit);
        const bit = 1 << sc;
        if (bmLo & bit) {
          if (host === 0) throw new ImageError(`L2 entry ${idx} has allocated subclusters but no cluster`, 'L2 table', where);
          return { kind: 'data', host: host + sc * t.unit };
        }
        return { kind: bmHi & bit ? 'zero' : 'unallocated' };
      }
      if ((lo & 1) && t.header.version === 3) return { kind: 'zero' };
      return host === 0 ? { kind: 'unallocated' } : { kind: 'data', host };
    };

    const unitEnd = (pos: number) => Math.min(spanEnd, (Math.floor(pos / t.unit) + 1) * t.unit);
    const first = classify(offset);
    if (first.kind === 'compressed') {
      const clusterStart = ci * cs;
      const end = Math.min(spanEnd, clusterStart + cs);
      const { hi, lo } = first;
      return {
        kind: 'compressed', length: end - offset, skip: offset - clusterStart,
        load: () => t.compressed(hi, lo, l2Offset), batch: { hi, lo, where: l2Offset }, stored: t.storedUnit(hi, lo, l2Offset),
      };
    }
    let end = unitEnd(offset);
    const firstHost = first.kind === 'data' ? first.host + (offset % t.unit) : 0;
    while (end < spanEnd) {
      const next = classify(end);
      if (next.kind !== first.kind) break;
      if (next.kind === 'data' && next.host !== firstHost + (end - offset)) break;
      end = unitEnd(end);
    }
    if (first.kind === 'data') {
      if (firstHost + (end - offset) > t.file.size) {
        throw new ImageError(`data cluster at ${first.host} lies past the end of the file (${t.file.size} bytes)`, 'L2 table', l2Offset);
      }
      return { kind: 'data', length: end - offset, source: t.file, offset: firstHost };
    }
    return { kind: first.kind, length: end - offset };
  }

  protected override loadBatch(handles: unknown[]): Promise<(Uint8Array | undefined)[]> {
    return this.t.compressedBatch(handles as { hi: number; lo: number; where: number }[]);
  }

  protected async closeLayer(): Promise<void> {
    // The file belongs to openImage; snapshot views share the tables, so only the active device disposes.
    if (this.ownsTables) this.t.dispose();
  }
}
