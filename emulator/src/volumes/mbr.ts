// MBR (DOS) partition tables: four primary slots, and logical partitions chained through EBRs
// inside an extended partition. Hostile chains (loops, escapes from the container) are bounded.
import { type BlockDevice, ImageError } from '../block/blockDevice';
import { view } from './binary';
import type { Partition, PartitionTable } from './partitionTable';

const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
/** Linux stops at a few hundred logical partitions too; anything longer is a loop or garbage. */
const MAX_LOGICAL = 256;

interface RawEntry { status: number; type: number; lba: number; count: number }

function entries(sector: Uint8Array): RawEntry[] {
  const dv = view(sector);
  const out: RawEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const o = 446 + 16 * i;
    out.push({ status: sector[o], type: sector[o + 4], lba: dv.getUint32(o + 8, true), count: dv.getUint32(o + 12, true) });
  }
  return out;
}

export function hasBootSignature(sector: Uint8Array): boolean {
  return sector.length >= 512 && sector[510] === 0x55 && sector[511] === 0xaa;
}

/**
 * Whether sector 0 looks like a partition table rather than a filesystem boot sector that happens
 * to end in 55 AA: every used slot must have a sane status byte and lie inside the disk.
 */
export function looksLikeMbr(sector: Uint8Array, diskSize: number, sectorSize: number): boolean {
  if (!hasBootSignature(sector)) return false;
  const used = entries(sector).filter((e) => e.type !== 0);
  if (used.length === 0) return false;
  return used.every((e) => (e.status === 0 || e.status === 0x80) && e.lba > 0 && e.count > 0
    && (e.lba + e.count) * sectorSize <= diskSize + sectorSize * 2048 /* tolerate a short last cylinder */);
}

export function isProtectiveMbr(sector: Uint8Array): boolean {
  return hasBootSignature(sector) && entries(sector).some((e) => e.type === 0xee);
}

export async function readMbr(disk: BlockDevice, sectorSize = 512): Promise<PartitionTable> {
  const sector0 = await disk.read(0, 512);
  if (!hasBootSignature(sector0)) throw new ImageError('no MBR boot signature (55 AA)', 'MBR', 510);
  const table: PartitionTable = {
    scheme: 'mbr', sectorSize, partitions: [], warnings: [],
    diskId: view(sector0).getUint32(440, true).toString(16).padStart(8, '0'),
  };
  const clamp = (p: Partition, what: string) => {
    if (p.start + p.size > disk.size) {
      table.warnings.push(`${what} extends past the end of the disk; truncated`);
      p.size = Math.max(0, disk.size - p.start);
    }
    return p;
  };
  let extended: RawEntry | undefined;
  entries(sector0).forEach((e, i) => {
    if (e.type === 0 || e.count === 0) return;
    const isExt = EXTENDED_TYPES.has(e.type);
    if (isExt && !extended) extended = e;
    if (e.lba * sectorSize >= disk.size) {
      table.warnings.push(`partition ${i + 1} starts past the end of the disk; ignored`);
      return;
    }
    table.partitions.push(clamp({
      number: i + 1, start: e.lba * sectorSize, size: e.count * sectorSize,
      type: e.type.toString(16).padStart(2, '0'), bootable: e.status === 0x80, role: isExt ? 'extended' : 'primary',
    }, `partition ${i + 1}`));
  });
  if (extended) await readLogicals(disk, sectorSize, extended, table, clamp);
  return table;
}

async function readLogicals(disk: BlockDevice, sectorSize: number, ext: RawEntry, table: PartitionTable,
  clamp: (p: Partition, what: string) => Partition): Promise<void> {
  const seen = new Set<number>();
  let ebrLba = ext.lba;
  let number = 5;
  while (number - 5 < MAX_LOGICAL) {
    const byteOff = ebrLba * sectorSize;
    if (seen.has(ebrLba)) { table.warnings.push(`EBR chain loops back to sector ${ebrLba}; stopped`); return; }
    seen.add(ebrLba);
    if (byteOff + 512 > disk.size || ebrLba < ext.lba || ebrLba >= ext.lba + ext.count) {
      table.warnings.push(`EBR at sector ${ebrLba} lies outside the extended partition; chain stopped`);
      return;
    }
    const ebr = await disk.read(byteOff, 512);
    if (!hasBootSignature(ebr)) { table.warnings.push(`EBR at byte ${byteOff} has no 55 AA signature; chain stopped`); return; }
    const [data, next] = entries(ebr);
    if (data.type !== 0 && data.count !== 0) {
      const start = (ebrLba + data.lba) * sectorSize;
      if (start < disk.size) {
        table.partitions.push(clamp({
          number, start, size: data.count * sectorSize, type: data.type.toString(16).padStart(2, '0'),
          bootable: data.status === 0x80, role: 'logical',
        }, `partition ${number}`));
      }
      number++;
    }
    if (!EXTENDED_TYPES.has(next.type) || next.count === 0) return;
    ebrLba = ext.lba + next.lba;
  }
  table.warnings.push(`more than ${MAX_LOGICAL} logical partitions; the rest are ignored`);
}
