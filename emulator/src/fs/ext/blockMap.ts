// Where an ext file's logical blocks live: extent trees (ext4) or the classic direct/indirect
// block map (ext2/3). Both produce runs; holes and unwritten extents read as zeros.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';
import type { ExtInode } from './inode';

/** `count` logical blocks from `logical` stored at `physical` (0 = hole / unwritten: zeros). */
export interface Run { logical: number; physical: number; count: number }

const EXTENT_MAGIC = 0xf30a;
const MAX_EXTENT_DEPTH = 5;
/** An inode's extents are loaded whole; a file with more than this is refused, not allowed to eat memory. */
const MAX_EXTENTS = 4 * 1024 * 1024;

export async function extentRuns(dev: BlockDevice, inode: ExtInode, blockSize: number, blocksCount: number): Promise<Run[]> {
  const runs: Run[] = [];
  const walk = async (node: Uint8Array, at: number, depth: number, expectDepth: number | undefined): Promise<void> => {
    const dv = view(node);
    if (dv.getUint16(0, true) !== EXTENT_MAGIC) throw new ImageError(`inode ${inode.id}: bad extent header magic`, 'ext extent header', at);
    const entries = dv.getUint16(2, true);
    const max = dv.getUint16(4, true);
    const d = dv.getUint16(6, true);
    if (entries > max || 12 + entries * 12 > node.length || d > MAX_EXTENT_DEPTH || (expectDepth !== undefined && d !== expectDepth)) {
      throw new ImageError(`inode ${inode.id}: malformed extent node (entries ${entries}, max ${max}, depth ${d})`, 'ext extent header', at);
    }
    for (let i = 0; i < entries; i++) {
      const o = 12 + i * 12;
      if (d === 0) {
        const logical = dv.getUint32(o, true);
        let len = dv.getUint16(o + 4, true);
        const unwritten = len > 32768;
        if (unwritten) len -= 32768;
        const physical = dv.getUint16(o + 6, true) * 0x100000000 + dv.getUint32(o + 8, true);
        if (len === 0) continue;
        if (!unwritten && physical + len > blocksCount) throw new ImageError(`inode ${inode.id}: extent points past the end of the filesystem`, 'ext extent', at + o);
        runs.push({ logical, physical: unwritten ? 0 : physical, count: len });
        if (runs.length > MAX_EXTENTS) throw new ImageError(`inode ${inode.id}: more than ${MAX_EXTENTS} extents`, 'ext extent', at + o);
      } else {
        const child = dv.getUint32(o + 4, true) + dv.getUint16(o + 8, true) * 0x100000000;
        if (child === 0 || child >= blocksCount) throw new ImageError(`inode ${inode.id}: extent index points outside the filesystem`, 'ext extent index', at + o);
        await walk(await dev.read(child * blockSize, blockSize), child * blockSize, depth + 1, d - 1);
      }
    }
  };
  await walk(inode.block, inode.at + 40, 0, undefined);
  runs.sort((a, b) => a.logical - b.logical);
  for (let i = 1; i < runs.length; i++) {
    if (runs[i].logical < runs[i - 1].logical + runs[i - 1].count) throw new ImageError(`inode ${inode.id}: overlapping extents at logical block ${runs[i].logical}`, 'ext extent', inode.at);
  }
  return runs;
}

/** Classic block map: 12 direct pointers, then single, double and triple indirect blocks. */
export async function indirectRuns(dev: BlockDevice, inode: ExtInode, blockSize: number, blocksCount: number, fileBlocks: number): Promise<Run[]> {
  const per = blockSize / 4;
  const runs: Run[] = [];
  const push = (logical: number, physical: number) => {
    if (physical === 0) return;
    if (physical >= blocksCount) throw new ImageError(`inode ${inode.id}: block pointer ${physical} is outside the filesystem`, 'ext block map', inode.at);
    const last = runs[runs.length - 1];
    if (last && last.logical + last.count === logical && last.physical + last.count === physical) last.count++;
    else runs.push({ logical, physical, count: 1 });
  };
  // Indirect blocks shared between slots would make the walk explode; a real map needs at most this many.
  let budget = 2 * Math.ceil(fileBlocks / per) + 4;
  const iv = view(inode.block);
  for (let i = 0; i < 12 && i < fileBlocks; i++) push(i, iv.getUint32(i * 4, true));
  const indirect = async (block: number, level: number, firstLogical: number): Promise<void> => {
    if (block === 0 || firstLogical >= fileBlocks) return;
    if (block >= blocksCount) throw new ImageError(`inode ${inode.id}: indirect block ${block} is outside the filesystem`, 'ext block map', inode.at);
    if (--budget < 0) throw new ImageError(`inode ${inode.id}: block map has more indirect blocks than its size allows`, 'ext block map', inode.at);
    const dv = view(await dev.read(block * blockSize, blockSize));
    const span = per ** (level - 1);
    for (let i = 0; i < per; i++) {
      const logical = firstLogical + i * span;
      if (logical >= fileBlocks) break;
      const p = dv.getUint32(i * 4, true);
      if (level === 1) push(logical, p); else await indirect(p, level - 1, logical);
    }
  };
  await indirect(iv.getUint32(48, true), 1, 12);
  await indirect(iv.getUint32(52, true), 2, 12 + per);
  await indirect(iv.getUint32(56, true), 3, 12 + per + per * per);
  return runs;
}
