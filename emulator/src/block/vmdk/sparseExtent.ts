// A VMDK hosted sparse extent ("KDMV"): grain directory → grain tables → grains. Covers
// monolithicSparse, twoGbMaxExtentSparse extents and streamOptimized (compressed grains with
// markers, grain directory in the footer).
import { ImageError } from '../blockDevice';
import { Fields } from '../bytes';
import { inflateZlib } from '../compression';
import type { Extent } from '../extentDevice';
import type { FileDevice } from '../fileDevice';
import { AsyncLru } from '../lruCache';

export const VMDK4_MAGIC = 0x564d444b; // "KDMV" little-endian
const FLAG_ZERO_GRAIN = 1 << 2, FLAG_COMPRESSED = 1 << 16, FLAG_MARKERS = 1 << 17;
const GD_AT_END = 0xffffffffffffffffn;
const MAX_GRAIN_SECTORS = 65536; // 32 MiB grains; QEMU allows more but no tool writes them, and we bound memory
const MAX_GD_BYTES = 64 * 1024 * 1024;

export interface SparseHeader {
  version: number;
  flags: number;
  capacity: number;
  grainSectors: number;
  descriptorOffset: number;
  descriptorSize: number;
  gtesPerGt: number;
  gdOffset: number;
  compressed: boolean;
  markers: boolean;
  zeroGrain: boolean;
}

export async function readSparseHeader(file: FileDevice): Promise<SparseHeader> {
  if (file.size < 512) throw new ImageError('VMDK sparse header is truncated', 'VMDK header', 0);
  let h = new Fields(await file.read(0, 512), 'VMDK header', 0, true);
  if (h.u32(0) !== VMDK4_MAGIC) throw h.error('not a VMDK sparse extent (bad magic)');
  const version = h.u32(4);
  if (version < 1 || version > 3) throw h.error(`unsupported VMDK version ${version}`, 4);
  if (h.u64n(56) === GD_AT_END) {
    // streamOptimized: the real header is in the footer, before the end-of-stream marker.
    if (file.size < 1536 + 512) throw h.error('streamOptimized footer is missing', 56);
    const at = file.size - 1536;
    const marker = new Fields(await file.read(at, 512), 'VMDK footer marker', at, true);
    if (marker.u32(12) !== 3) throw marker.error(`expected a footer marker (type 3), found type ${marker.u32(12)}`, 12);
    h = new Fields(await file.read(at + 512, 512), 'VMDK footer', at + 512, true);
    if (h.u32(0) !== VMDK4_MAGIC) throw h.error('footer has a bad magic');
    if (h.u64n(56) === GD_AT_END) throw h.error('footer does not locate the grain directory', 56);
  }
  const flags = h.u32(8);
  const sh: SparseHeader = {
    version, flags,
    capacity: h.u64(12, 'capacity'),
    grainSectors: h.u64(20, 'grain size'),
    descriptorOffset: h.u64(28, 'descriptor offset'),
    descriptorSize: h.u64(36, 'descriptor size'),
    gtesPerGt: h.u32(44),
    gdOffset: h.u64(56, 'grain directory offset'),
    compressed: (flags & FLAG_COMPRESSED) !== 0,
    markers: (flags & FLAG_MARKERS) !== 0,
    zeroGrain: (flags & FLAG_ZERO_GRAIN) !== 0,
  };
  if (sh.compressed && h.u16(77) !== 1) throw h.error(`unsupported compression algorithm ${h.u16(77)}`, 77);
  if (sh.grainSectors === 0 || sh.grainSectors > MAX_GRAIN_SECTORS || (sh.grainSectors & (sh.grainSectors - 1)) !== 0) {
    throw h.error(`invalid grain size of ${sh.grainSectors} sectors`, 20);
  }
  if (sh.gtesPerGt === 0 || sh.gtesPerGt > 512) throw h.error(`grain table size ${sh.gtesPerGt} is invalid (QEMU accepts at most 512)`, 44);
  if (sh.capacity * 512 > Number.MAX_SAFE_INTEGER) throw h.error('capacity is too large', 12);
  return sh;
}

/** Maps one sparse extent's own sectors; `base` is where the extent starts on the virtual disk. */
export class SparseExtent {
  readonly grainBytes: number;
  private readonly gd: Float64Array;
  private readonly gtBytes: number;
  private readonly gtCache = new AsyncLru<number, Uint32Array>(4 * 1024 * 1024);
  private readonly grainCache = new AsyncLru<number, Uint8Array>(8 * 1024 * 1024);

  private constructor(readonly file: FileDevice, readonly header: SparseHeader, gd: Float64Array) {
    this.grainBytes = header.grainSectors * 512;
    this.gd = gd;
    this.gtBytes = header.gtesPerGt * 4;
  }

  static async open(file: FileDevice, header: SparseHeader): Promise<SparseExtent> {
    const coverage = header.gtesPerGt * header.grainSectors;
    const entries = Math.ceil(header.capacity / coverage);
    if (entries * 4 > MAX_GD_BYTES) throw new ImageError(`grain directory of ${entries} entries is too large`, 'VMDK header', 56);
    const gdAt = header.gdOffset * 512;
    if (gdAt + entries * 4 > file.size) throw new ImageError('grain directory is outside the file', 'VMDK grain directory', gdAt);
    const raw = await file.read(gdAt, entries * 4);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const gd = new Float64Array(entries);
    for (let i = 0; i < entries; i++) {
      const e = dv.getUint32(i * 4, true) * 512;
      if (e !== 0 && e + header.gtesPerGt * 4 > file.size) {
        throw new ImageError(`grain directory entry ${i} points outside the file`, 'VMDK grain directory', gdAt + i * 4);
      }
      gd[i] = e;
    }
    return new SparseExtent(file, header, gd);
  }

  private gt(at: number): Promise<Uint32Array> {
    return this.gtCache.get(at, async () => {
      const raw = await this.file.read(at, this.gtBytes);
      const out = new Uint32Array(this.header.gtesPerGt);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(i * 4, true);
      return out;
    });
  }

  /** Extent for extent-relative `offset` (< capacity bytes), at most `max` long. */
  async map(offset: number, max: number, limit: number): Promise<Extent> {
    const g = this.grainBytes;
    const grain = Math.floor(offset / g);
    const gdi = Math.floor(grain / this.header.gtesPerGt);
    const spanEnd = Math.min(offset + max, limit, (gdi + 1) * this.header.gtesPerGt * g);
    const gtAt = gdi < this.gd.length ? this.gd[gdi] : 0;
    if (gtAt === 0) return { kind: 'unallocated', length: spanEnd - offset };
    const table = await this.gt(gtAt);
    const base = gdi * this.header.gtesPerGt;
    const kindOf = (e: number) => (e === 0 ? 'unallocated' : e === 1 && this.header.zeroGrain ? 'zero' : this.header.compressed ? 'compressed' : 'data');
    const e0 = table[grain - base];
    const k0 = kindOf(e0);
    const inGrain = offset - grain * g;
    if (k0 === 'compressed') {
      const end = Math.min(spanEnd, (grain + 1) * g);
      return { kind: 'compressed', length: end - offset, skip: inGrain, load: () => this.grainData(e0 * 512, gtAt) };
    }
    let end = Math.min(spanEnd, (grain + 1) * g);
    for (let i = grain + 1; end < spanEnd; i++) {
      const e = table[i - base];
      if (kindOf(e) !== k0 || (k0 === 'data' && e !== e0 + (i - grain) * this.header.grainSectors)) break;
      end = Math.min(spanEnd, (i + 1) * g);
    }
    if (k0 !== 'data') return { kind: k0, length: end - offset };
    const host = e0 * 512 + inGrain;
    if (host + (end - offset) > this.file.size) throw new ImageError(`grain at sector ${e0} lies past the end of the file`, 'VMDK grain table', gtAt);
    return { kind: 'data', length: end - offset, source: this.file, offset: host };
  }

  /** One compressed grain (streamOptimized): [lba u64][size u32][zlib data]. */
  private grainData(at: number, gtAt: number): Promise<Uint8Array> {
    return this.grainCache.get(at, async () => {
      if (at >= this.file.size) throw new ImageError('compressed grain lies past the end of the file', 'VMDK grain table', gtAt);
      let dataAt = at, len = Math.min(this.file.size - at, 2 * this.grainBytes + 512);
      if (this.header.markers) {
        const m = new Fields(await this.file.read(at, Math.min(12, this.file.size - at)), 'VMDK grain marker', at, true);
        len = m.u32(8);
        dataAt = at + 12;
        if (len === 0 || len > 2 * this.grainBytes + 512 || dataAt + len > this.file.size) throw m.error(`compressed grain of ${len} bytes is invalid`, 8);
      }
      const out = await inflateZlib(await this.file.read(dataAt, len), this.grainBytes, 'VMDK compressed grain', dataAt);
      if (out.length === this.grainBytes) return out;
      const full = new Uint8Array(this.grainBytes);
      full.set(out);
      return full;
    });
  }
}
