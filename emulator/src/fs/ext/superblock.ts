// The ext2/3/4 superblock fields this reader needs, validated before anything else trusts them.
import { ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';
import { extFlavour } from '../../volumes/probe';

export const INCOMPAT = {
  FILETYPE: 0x2, RECOVER: 0x4, JOURNAL_DEV: 0x8, META_BG: 0x10, EXTENTS: 0x40, BIT64: 0x80, MMP: 0x100, FLEX_BG: 0x200,
  EA_INODE: 0x400, DIRDATA: 0x1000, CSUM_SEED: 0x2000, LARGEDIR: 0x4000, INLINE_DATA: 0x8000, ENCRYPT: 0x10000, CASEFOLD: 0x20000,
} as const;
/** Everything this reader understands; other incompatible features make it refuse the volume. */
const INCOMPAT_KNOWN = Object.values(INCOMPAT).reduce((a, b) => a | b, 0) & ~(INCOMPAT.JOURNAL_DEV | INCOMPAT.DIRDATA);
const RO_COMPAT_SPARSE_SUPER = 0x1;

export interface ExtSuperblock {
  type: 'ext2' | 'ext3' | 'ext4';
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  descSize: number;
  incompat: number;
  roCompat: number;
  firstMetaBg: number;
  groupCount: number;
  label: string;
  uuid: string;
}

export function parseSuperblock(sb: Uint8Array, deviceSize: number): ExtSuperblock {
  const dv = view(sb);
  const bad = (what: string, off: number): never => { throw new ImageError(`ext superblock: ${what}`, 'ext superblock', 1024 + off); };
  if (dv.getUint16(56, true) !== 0xef53) bad('bad magic', 56);
  const logBlock = dv.getUint32(24, true);
  if (logBlock > 6) bad(`block size 2^${10 + logBlock} is invalid`, 24);
  const blockSize = 1024 << logBlock;
  const incompat = dv.getUint32(96, true);
  const roCompat = dv.getUint32(100, true);
  if (incompat & INCOMPAT.JOURNAL_DEV) bad('this is an external journal device, not a filesystem', 96);
  const unknown = incompat & ~INCOMPAT_KNOWN;
  if (unknown) bad(`unsupported incompatible features 0x${unknown.toString(16)}`, 96);
  const bit64 = (incompat & INCOMPAT.BIT64) !== 0;
  const blocksCount = dv.getUint32(4, true) + (bit64 ? dv.getUint32(336, true) * 0x100000000 : 0);
  const inodesCount = dv.getUint32(0, true);
  const firstDataBlock = dv.getUint32(20, true);
  const blocksPerGroup = dv.getUint32(32, true);
  const inodesPerGroup = dv.getUint32(40, true);
  const rev = dv.getUint32(76, true);
  const inodeSize = rev === 0 ? 128 : dv.getUint16(88, true);
  const descSize = bit64 ? dv.getUint16(254, true) : 32;
  if (blocksPerGroup === 0 || blocksPerGroup > blockSize * 8) bad(`blocks per group ${blocksPerGroup} is invalid`, 32);
  if (inodesPerGroup === 0 || inodesPerGroup > blockSize * 8) bad(`inodes per group ${inodesPerGroup} is invalid`, 40);
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1))) bad(`inode size ${inodeSize} is invalid`, 88);
  if (descSize < 32 || descSize > 1024 || (descSize & (descSize - 1))) bad(`group descriptor size ${descSize} is invalid`, 254);
  if (blocksCount <= firstDataBlock) bad(`block count ${blocksCount} is invalid`, 4);
  if (firstDataBlock !== (blockSize === 1024 ? 1 : 0) && firstDataBlock !== 0) bad(`first data block ${firstDataBlock} is invalid`, 20);
  const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  if (inodesCount > groupCount * inodesPerGroup) bad(`inode count ${inodesCount} exceeds ${groupCount} groups × ${inodesPerGroup}`, 0);
  if (blocksCount * blockSize > deviceSize) {
    // A truncated image: reads past the end fail cleanly later; say so up front rather than guess.
    bad(`filesystem claims ${blocksCount * blockSize} bytes but the volume has ${deviceSize}`, 4);
  }
  let label = '';
  for (let i = 120; i < 136 && sb[i]; i++) label += String.fromCharCode(sb[i]);
  const hex = Array.from(sb.subarray(104, 120), (b) => b.toString(16).padStart(2, '0')).join('');
  return {
    type: extFlavour(sb), blockSize, blocksCount, inodesCount, firstDataBlock, blocksPerGroup, inodesPerGroup, inodeSize, descSize,
    incompat, roCompat, firstMetaBg: dv.getUint32(260, true), groupCount, label,
    uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

/** Whether a block group carries a superblock backup (and so, without meta_bg, descriptor copies). */
export function groupHasSuper(sb: ExtSuperblock, group: number): boolean {
  if (!(sb.roCompat & RO_COMPAT_SPARSE_SUPER) || group <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < group) p *= base;
    if (p === group) return true;
  }
  return false;
}
