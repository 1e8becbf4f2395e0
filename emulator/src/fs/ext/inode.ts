// Decoding one on-disk ext inode: type, size, times, and where its data lives.
import { ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';
import { fileTypeOfMode, type Inode } from '../fileSystem';

export const INODE_FLAGS = { INDEX: 0x1000, EXTENTS: 0x80000, INLINE_DATA: 0x10000000, HUGE_FILE: 0x40000, ENCRYPT: 0x800 } as const;

export interface ExtInode extends Inode {
  flags: number;
  /** The 60-byte i_block area (block map, extent root, inline data or fast symlink target). */
  block: Uint8Array;
  /** 512-byte sectors (or fs blocks with HUGE_FILE) charged to the inode. */
  blocks: number;
  fileAcl: number;
  /** The in-inode extended attribute area after i_extra_isize, if any. */
  xattrArea: Uint8Array;
  /** Byte offset of the inode on the volume, for error messages. */
  at: number;
}

export function decodeInode(ino: number, raw: Uint8Array, at: number, blockSize: number): ExtInode {
  const dv = view(raw);
  const mode = dv.getUint16(0, true);
  const nlink = dv.getUint16(26, true);
  if (mode === 0 && nlink === 0) throw new ImageError(`inode ${ino} is not in use`, 'ext inode', at);
  const type = fileTypeOfMode(mode);
  const sizeHi = dv.getUint32(108, true);
  const size = dv.getUint32(4, true) + sizeHi * 0x100000000;
  if (sizeHi >= 0x200000) throw new ImageError(`inode ${ino} has an impossible size`, 'ext inode', at + 108);
  const extra = raw.length > 128 ? dv.getUint16(128, true) : 0;
  if (raw.length > 128 && (128 + extra > raw.length || extra % 4)) throw new ImageError(`inode ${ino}: i_extra_isize ${extra} is invalid`, 'ext inode', at + 128);
  let mtime = dv.getInt32(16, true);
  if (extra >= 12) mtime += (dv.getUint32(0x88, true) & 3) * 0x100000000; // epoch bits extend past 2038
  const flags = dv.getUint32(32, true);
  const blocksLo = dv.getUint32(28, true);
  const blocksHi = dv.getUint16(116, true);
  let blocks = blocksLo + blocksHi * 0x100000000;
  if (flags & INODE_FLAGS.HUGE_FILE) blocks *= blockSize / 512;
  return {
    id: ino, type, size, mode, mtime, nlink,
    uid: dv.getUint16(2, true) | (dv.getUint16(120, true) << 16),
    gid: dv.getUint16(24, true) | (dv.getUint16(122, true) << 16),
    flags, block: raw.slice(40, 100), blocks,
    fileAcl: dv.getUint32(104, true) + dv.getUint16(118, true) * 0x100000000,
    xattrArea: raw.length > 128 ? raw.slice(128 + extra) : new Uint8Array(0),
    at,
  };
}

/** The value of the in-inode extended attribute `index`/`name` (e.g. 7/"data" = system.data). */
export function inodeXattr(inode: ExtInode, index: number, name: string): Uint8Array | undefined {
  const a = inode.xattrArea;
  if (a.length < 4 || view(a).getUint32(0, true) !== 0xea020000) return undefined;
  const dv = view(a);
  const base = 4; // value offsets count from the first entry
  let p = 4;
  while (p + 16 <= a.length) {
    if (dv.getUint32(p, true) === 0) break;
    const nameLen = a[p];
    const nameIndex = a[p + 1];
    const valueOffs = dv.getUint16(p + 2, true);
    const valueInum = dv.getUint32(p + 4, true);
    const valueSize = dv.getUint32(p + 8, true);
    if (p + 16 + nameLen > a.length) break;
    const entryName = String.fromCharCode(...a.subarray(p + 16, p + 16 + nameLen));
    if (nameIndex === index && entryName === name && valueInum === 0) {
      if (base + valueOffs + valueSize > a.length) throw new ImageError(`inode ${inode.id}: xattr ${name} value runs past the inode`, 'ext xattr', inode.at);
      return a.slice(base + valueOffs, base + valueOffs + valueSize);
    }
    p += (16 + nameLen + 3) & ~3;
  }
  return undefined;
}
