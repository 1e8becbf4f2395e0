// dm-thin pool metadata: a superblock in block 0 and persistent-data btrees of 4 KiB nodes.
// The mapping tree is two-level (thin device id → per-device tree of virtual block → data block).
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { u64le, view } from '../binary';
import { MappedDevice, type Piece } from '../mappedDevice';

const THIN_MAGIC = 27022010;
const META_BLOCK = 4096;
const NODE_HEADER = 32;
const INTERNAL_NODE = 1;
const LEAF_NODE = 2;
/** A btree over 2^48 keys is never deeper than this; deeper means a cycle or corruption. */
const MAX_DEPTH = 16;

export interface ThinSuperblock { dataMappingRoot: number; deviceDetailsRoot: number; dataBlockSectors: number; metadataBlocks: number; transactionId: number }

export class ThinPoolMetadata {
  private readonly nodeCache = new Map<number, Uint8Array>();
  private readonly deviceRoots = new Map<number, number>();

  private constructor(private readonly meta: BlockDevice, readonly sb: ThinSuperblock, private readonly label: string) {}

  static async open(meta: BlockDevice, label: string): Promise<ThinPoolMetadata> {
    if (meta.size < META_BLOCK) throw new ImageError(`${label}: thin-pool metadata device is smaller than one block`);
    const b = await meta.read(0, 512);
    const dv = view(b);
    if (u64le(dv, 32) !== THIN_MAGIC) throw new ImageError(`${label}: thin-pool metadata has no superblock magic`, 'thin superblock', 32);
    const sb: ThinSuperblock = {
      transactionId: u64le(dv, 48), dataMappingRoot: u64le(dv, 320), deviceDetailsRoot: u64le(dv, 328),
      dataBlockSectors: dv.getUint32(336, true), metadataBlocks: u64le(dv, 344),
    };
    if (dv.getUint32(340, true) !== META_BLOCK / 512) throw new ImageError(`${label}: metadata block size ${dv.getUint32(340, true)} sectors is not 8`, 'thin superblock', 340);
    if (sb.dataBlockSectors === 0 || sb.dataBlockSectors > 2 * 1024 * 1024) throw new ImageError(`${label}: implausible thin data block size ${sb.dataBlockSectors}`, 'thin superblock', 336);
    return new ThinPoolMetadata(meta, sb, label);
  }

  private async node(block: number): Promise<{ leaf: boolean; keys: number[]; values: Uint8Array; valueSize: number; dv: DataView }> {
    if (!Number.isFinite(block) || block === 0 || (block + 1) * META_BLOCK > this.meta.size) {
      throw new ImageError(`${this.label}: btree node block ${block} is outside the metadata device`, 'thin btree', block * META_BLOCK);
    }
    let buf = this.nodeCache.get(block);
    if (!buf) {
      buf = await this.meta.read(block * META_BLOCK, META_BLOCK);
      if (this.nodeCache.size > 4096) this.nodeCache.clear();
      this.nodeCache.set(block, buf);
    }
    const dv = view(buf);
    const flags = dv.getUint32(4, true);
    const nr = dv.getUint32(16, true);
    const max = dv.getUint32(20, true);
    const valueSize = dv.getUint32(24, true);
    if (u64le(dv, 8) !== block) throw new ImageError(`${this.label}: btree node says it is block ${u64le(dv, 8)}`, 'thin btree', block * META_BLOCK + 8);
    if (!(flags & (INTERNAL_NODE | LEAF_NODE)) || nr > max || valueSize === 0 || NODE_HEADER + max * (8 + valueSize) > META_BLOCK) {
      throw new ImageError(`${this.label}: malformed btree node`, 'thin btree', block * META_BLOCK);
    }
    const keys: number[] = [];
    for (let i = 0; i < nr; i++) keys.push(u64le(dv, NODE_HEADER + 8 * i));
    const vstart = NODE_HEADER + 8 * max;
    return { leaf: (flags & LEAF_NODE) !== 0, keys, values: buf.subarray(vstart, vstart + nr * valueSize), valueSize, dv: view(buf.subarray(vstart)) };
  }

  /** The value for `key` in the tree at `root` (as a view), or undefined. */
  private async lookup(root: number, key: number): Promise<DataView | undefined> {
    let block = root;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const nd = await this.node(block);
      // The greatest key ≤ `key` (internal nodes) or the exact key (leaves).
      let lo = 0, hi = nd.keys.length - 1, idx = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (nd.keys[mid] <= key) { idx = mid; lo = mid + 1; } else hi = mid - 1;
      }
      if (nd.leaf) {
        if (idx < 0 || nd.keys[idx] !== key) return undefined;
        return new DataView(nd.dv.buffer, nd.dv.byteOffset + idx * nd.valueSize, nd.valueSize);
      }
      if (idx < 0) return undefined;
      if (nd.valueSize !== 8) throw new ImageError(`${this.label}: internal btree node with ${nd.valueSize}-byte values`, 'thin btree', block * META_BLOCK);
      block = u64le(nd.dv, idx * 8);
    }
    throw new ImageError(`${this.label}: btree deeper than ${MAX_DEPTH} levels (a cycle?)`, 'thin btree', root * META_BLOCK);
  }

  async deviceExists(devId: number): Promise<boolean> {
    return (await this.lookup(this.sb.deviceDetailsRoot, devId)) !== undefined;
  }

  /** The data block holding virtual block `vblock` of thin device `devId`, or undefined if unmapped. */
  async map(devId: number, vblock: number): Promise<number | undefined> {
    let root = this.deviceRoots.get(devId);
    if (root === undefined) {
      const v = await this.lookup(this.sb.dataMappingRoot, devId);
      if (!v) throw new ImageError(`${this.label}: thin device ${devId} is not in the pool metadata`);
      root = u64le(v, 0);
      this.deviceRoots.set(devId, root);
    }
    const v = await this.lookup(root, vblock);
    if (!v) return undefined;
    // 64-bit block_time: data block in the high 40 bits, time in the low 24.
    const lo = v.getUint32(0, true);
    const hi = v.getUint32(4, true);
    return hi * 0x100 + (lo >>> 24);
  }
}

/** A thin LV: virtual blocks mapped into the pool's data device; unmapped blocks read as zeros. */
export class ThinDevice extends MappedDevice {
  private readonly blockBytes: number;

  constructor(private readonly pool: ThinPoolMetadata, private readonly data: BlockDevice, private readonly devId: number,
    readonly size: number, protected readonly label: string) {
    super();
    this.blockBytes = pool.sb.dataBlockSectors * 512;
  }

  protected async locate(offset: number, maxLength: number): Promise<Piece> {
    const vblock = Math.floor(offset / this.blockBytes);
    const within = offset - vblock * this.blockBytes;
    const length = Math.min(maxLength, this.blockBytes - within);
    const dblock = await this.pool.map(this.devId, vblock);
    if (dblock === undefined) return { zero: true, length };
    const at = dblock * this.blockBytes + within;
    if (at + length > this.data.size) throw new ImageError(`${this.label}: block ${vblock} maps to data block ${dblock}, past the pool's data device`, 'thin mapping', at);
    return { device: this.data, offset: at, length };
  }
}
