// Read-only ext2/ext3/ext4: group descriptors (32/64-bit, meta_bg), inodes, extent trees and block
// maps, linear and htree directories (read linearly: htree index blocks look like empty entries),
// inline data, fast and slow symlinks, sparse files.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';
import { CachedDevice } from '../cachedDevice';
import { type DirEntry, FsError, type FsDriver, type Inode } from '../fileSystem';
import { extentRuns, indirectRuns, type Run } from './blockMap';
import { decodeInode, type ExtInode, INODE_FLAGS, inodeXattr } from './inode';
import { type ExtSuperblock, groupHasSuper, INCOMPAT, parseSuperblock } from './superblock';

const ROOT_INO = 2;
/** Directories bigger than this are refused (the largest real ones are a few hundred MiB). */
const MAX_DIR_BYTES = 512 * 1024 * 1024;
const SYSTEM_XATTR = 7;

export class ExtFileSystem implements FsDriver {
  readonly type: string;
  readonly label: string;
  private readonly runCache = new Map<number, Run[]>();
  private readonly dirCache = new Map<number, Map<string, number>>();

  private constructor(private readonly dev: BlockDevice, readonly sb: ExtSuperblock) {
    this.type = sb.type;
    this.label = sb.label;
  }

  static async open(device: BlockDevice): Promise<ExtFileSystem> {
    if (device.size < 2048) throw new ImageError('volume is too small for an ext superblock');
    const sb = parseSuperblock(await device.read(1024, 1024), device.size);
    return new ExtFileSystem(new CachedDevice(device), sb);
  }

  private async groupInodeTable(group: number): Promise<number> {
    const { sb } = this;
    const perBlock = sb.blockSize / sb.descSize;
    const descBlock = Math.floor(group / perBlock);
    let block: number;
    if ((sb.incompat & INCOMPAT.META_BG) && descBlock >= sb.firstMetaBg) {
      const firstGroup = descBlock * perBlock;
      block = sb.firstDataBlock + firstGroup * sb.blocksPerGroup + (groupHasSuper(sb, firstGroup) ? 1 : 0);
    } else {
      block = sb.firstDataBlock + 1 + descBlock;
    }
    const at = block * sb.blockSize + (group % perBlock) * sb.descSize;
    const d = view(await this.dev.read(at, sb.descSize));
    const table = d.getUint32(8, true) + (sb.descSize >= 64 ? d.getUint32(0x28, true) * 0x100000000 : 0);
    if (table === 0 || table >= sb.blocksCount) throw new ImageError(`group ${group}: inode table block ${table} is outside the filesystem`, 'ext group descriptor', at + 8);
    return table;
  }

  async inode(ino: number): Promise<ExtInode> {
    const { sb } = this;
    if (ino < 1 || ino > sb.inodesCount) throw new ImageError(`inode number ${ino} is out of range (1–${sb.inodesCount})`);
    const group = Math.floor((ino - 1) / sb.inodesPerGroup);
    const index = (ino - 1) % sb.inodesPerGroup;
    const table = await this.groupInodeTable(group);
    const at = table * sb.blockSize + index * sb.inodeSize;
    if (at + sb.inodeSize > this.dev.size) throw new ImageError(`inode ${ino} lies past the end of the volume`, 'ext inode', at);
    return decodeInode(ino, await this.dev.read(at, sb.inodeSize), at, sb.blockSize);
  }

  root(): Promise<ExtInode> { return this.inode(ROOT_INO); }

  private async runs(inode: ExtInode): Promise<Run[]> {
    let r = this.runCache.get(inode.id);
    if (!r) {
      const fileBlocks = Math.ceil(inode.size / this.sb.blockSize);
      r = inode.flags & INODE_FLAGS.EXTENTS
        ? await extentRuns(this.dev, inode, this.sb.blockSize, this.sb.blocksCount)
        : await indirectRuns(this.dev, inode, this.sb.blockSize, this.sb.blocksCount, fileBlocks);
      if (this.runCache.size > 64) this.runCache.clear();
      this.runCache.set(inode.id, r);
    }
    return r;
  }

  /** Inline data: the 60-byte i_block followed by the system.data xattr. */
  private inlineData(inode: ExtInode): Uint8Array {
    const more = inodeXattr(inode, SYSTEM_XATTR, 'data') ?? new Uint8Array(0);
    const all = new Uint8Array(60 + more.length);
    all.set(inode.block, 0);
    all.set(more, 60);
    return all;
  }

  async read(inode: Inode, offset: number, length: number): Promise<Uint8Array> {
    const node = inode as ExtInode;
    const end = Math.min(node.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    if (node.flags & INODE_FLAGS.INLINE_DATA) {
      const data = this.inlineData(node);
      if (end > data.length) throw new ImageError(`inode ${node.id}: inline data is shorter than the file size`, 'ext inode', node.at);
      return data.slice(offset, end);
    }
    const bs = this.sb.blockSize;
    const out = new Uint8Array(end - offset);
    const runs = await this.runs(node);
    // Binary-search the first run that ends after `offset`, then copy run by run.
    let lo = 0, hi = runs.length;
    const firstBlock = Math.floor(offset / bs);
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid].logical + runs[mid].count <= firstBlock) lo = mid + 1; else hi = mid;
    }
    for (let i = lo; i < runs.length; i++) {
      const r = runs[i];
      const runStart = r.logical * bs;
      const runEnd = runStart + r.count * bs;
      if (runStart >= end) break;
      const from = Math.max(offset, runStart);
      const to = Math.min(end, runEnd);
      if (from >= to || r.physical === 0) continue;
      out.set(await this.dev.read(r.physical * bs + (from - runStart), to - from), from - offset);
    }
    return out;
  }

  async readlink(link: Inode): Promise<string> {
    const node = link as ExtInode;
    if (node.type !== 'symlink') throw new FsError(`inode ${node.id} is not a symbolic link`, 'EINVAL');
    if (node.size > 4096) throw new ImageError(`symlink inode ${node.id} is ${node.size} bytes long`, 'ext inode', node.at);
    const eaBlocks = node.fileAcl ? this.sb.blockSize / 512 : 0;
    // A fast symlink keeps its target in i_block and owns no data blocks (an xattr block aside).
    const fast = node.size < 60 && node.blocks - eaBlocks === 0 && !(node.flags & INODE_FLAGS.INLINE_DATA);
    const bytes = fast ? node.block.slice(0, node.size) : await this.read(node, 0, node.size);
    return new TextDecoder('utf-8').decode(bytes);
  }

  /** Name → inode number of a directory, cached for the few most recent directories. */
  private async entries(node: ExtInode): Promise<Map<string, number>> {
    const hit = this.dirCache.get(node.id);
    if (hit) return hit;
    const raw = await this.rawEntries(node);
    const map = new Map<string, number>();
    for (const e of raw) if (e.name !== '.' && e.name !== '..') map.set(e.name, e.ino);
    if (this.dirCache.size >= 16) this.dirCache.delete(this.dirCache.keys().next().value!);
    this.dirCache.set(node.id, map);
    return map;
  }

  async lookup(dir: Inode, name: string): Promise<Inode | undefined> {
    const ino = (await this.entries(dir as ExtInode)).get(name);
    return ino === undefined ? undefined : this.inode(ino);
  }

  async list(dir: Inode): Promise<DirEntry[]> {
    const out: DirEntry[] = [];
    for (const [name, ino] of await this.entries(dir as ExtInode)) out.push({ name, inode: await this.inode(ino) });
    return out;
  }

  private async rawEntries(node: ExtInode): Promise<{ name: string; ino: number }[]> {
    if (node.type !== 'dir') throw new FsError(`inode ${node.id} is not a directory`, 'ENOTDIR');
    if (node.size > MAX_DIR_BYTES) throw new ImageError(`directory inode ${node.id} is ${node.size} bytes long`, 'ext inode', node.at);
    const raw: { name: string; ino: number }[] = [];
    if (node.flags & INODE_FLAGS.INLINE_DATA) {
      // Inline directory: 4-byte parent inode, then entries in the rest of i_block and system.data.
      const data = this.inlineData(node);
      this.parseEntries(data.subarray(4, 60), node, raw, node.at + 44);
      if (data.length > 60) this.parseEntries(data.subarray(60), node, raw, node.at);
    } else {
      const bs = this.sb.blockSize;
      const all = await this.read(node, 0, node.size);
      for (let b = 0; b * bs < all.length; b++) this.parseEntries(all.subarray(b * bs, (b + 1) * bs), node, raw, -1);
    }
    return raw;
  }

  private parseEntries(block: Uint8Array, dir: ExtInode, out: { name: string; ino: number }[], at: number): void {
    const dv = view(block);
    const fileType = (this.sb.incompat & INCOMPAT.FILETYPE) !== 0;
    let p = 0;
    while (p + 8 <= block.length) {
      const ino = dv.getUint32(p, true);
      const recLen = dv.getUint16(p + 4, true);
      const nameLen = fileType ? block[p + 6] : dv.getUint16(p + 6, true);
      if (recLen < 8 || recLen % 4 || p + recLen > block.length || 8 + nameLen > recLen) {
        throw new ImageError(`directory inode ${dir.id}: corrupt entry (rec_len ${recLen}, name_len ${nameLen})`, 'ext dirent', at >= 0 ? at + p : dir.at);
      }
      if (ino !== 0) {
        if (ino > this.sb.inodesCount) throw new ImageError(`directory inode ${dir.id}: entry points to inode ${ino}, out of range`, 'ext dirent', at >= 0 ? at + p : dir.at);
        out.push({ ino, name: new TextDecoder('utf-8').decode(block.subarray(p + 8, p + 8 + nameLen)) });
      }
      p += recLen;
    }
  }
}
