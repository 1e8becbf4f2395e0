// GUID partition tables, on 512- and 4096-byte-sector disks. Header and entry-array CRCs are
// checked; when the primary copy is damaged the backup header at the last LBA is used instead.
import { type BlockDevice, ImageError } from '../block/blockDevice';
import { crc32Std, guid, isZero, u64le, view } from './binary';
import type { Partition, PartitionTable } from './partitionTable';

const SIGNATURE = 'EFI PART';
/** The spec requires at least 16 KiB of entries; real tables have 128. Bound hostile counts. */
const MAX_ENTRIES = 4096;
const MAX_ENTRY_SIZE = 4096;

export const GPT_TYPE_NAMES: Record<string, string> = {
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'Linux RAID',
};

/** The sector size whose LBA 1 holds a GPT header signature, or undefined. */
export async function detectGptSectorSize(disk: BlockDevice): Promise<number | undefined> {
  for (const ss of [512, 4096]) {
    if (disk.size < ss * 2 + 92) continue;
    const sig = new TextDecoder('latin1').decode(await disk.read(ss, 8));
    if (sig === SIGNATURE) return ss;
  }
  return undefined;
}

interface Header { entriesLba: number; count: number; entrySize: number; entriesCrc: number; firstUsable: number; lastUsable: number; diskGuid: string; backupLba: number }

async function readHeader(disk: BlockDevice, ss: number, lba: number, which: string): Promise<Header> {
  const at = lba * ss;
  if (at + 92 > disk.size) throw new ImageError(`${which} GPT header lies past the end of the disk`, 'GPT header', at);
  const sec = await disk.read(at, Math.min(ss, 512));
  const dv = view(sec);
  if (new TextDecoder('latin1').decode(sec.subarray(0, 8)) !== SIGNATURE) throw new ImageError(`${which} GPT header has no "EFI PART" signature`, 'GPT header', at);
  const hsize = dv.getUint32(12, true);
  if (hsize < 92 || hsize > sec.length) throw new ImageError(`${which} GPT header size ${hsize} is invalid`, 'GPT header', at + 12);
  const copy = sec.slice(0, hsize);
  view(copy).setUint32(16, 0, true);
  if (crc32Std(copy) !== dv.getUint32(16, true)) throw new ImageError(`${which} GPT header CRC mismatch`, 'GPT header', at + 16);
  const count = dv.getUint32(80, true);
  const entrySize = dv.getUint32(84, true);
  if (count > MAX_ENTRIES || entrySize < 128 || entrySize > MAX_ENTRY_SIZE || entrySize % 8 !== 0) {
    throw new ImageError(`${which} GPT header has an implausible entry array (${count} × ${entrySize} bytes)`, 'GPT header', at + 80);
  }
  return {
    entriesLba: u64le(dv, 72), count, entrySize, entriesCrc: dv.getUint32(88, true),
    firstUsable: u64le(dv, 40), lastUsable: u64le(dv, 48), diskGuid: guid(sec, 56), backupLba: u64le(dv, 32),
  };
}

async function readEntries(disk: BlockDevice, ss: number, h: Header, which: string): Promise<Partition[]> {
  const at = h.entriesLba * ss;
  const len = h.count * h.entrySize;
  if (!Number.isFinite(at) || at + len > disk.size) throw new ImageError(`${which} GPT entry array lies past the end of the disk`, 'GPT entries', at);
  const buf = await disk.read(at, len);
  if (crc32Std(buf) !== h.entriesCrc) throw new ImageError(`${which} GPT entry array CRC mismatch`, 'GPT entries', at);
  const parts: Partition[] = [];
  for (let i = 0; i < h.count; i++) {
    const e = buf.subarray(i * h.entrySize, (i + 1) * h.entrySize);
    if (isZero(e.subarray(0, 16))) continue;
    const dv = view(e);
    const first = u64le(dv, 32);
    const last = u64le(dv, 40);
    if (last < first || (last + 1) * ss > disk.size) {
      throw new ImageError(`GPT entry ${i + 1} spans LBAs ${first}–${last}, outside the disk`, 'GPT entry', at + i * h.entrySize + 32);
    }
    let name = '';
    for (let j = 56; j + 1 < 128; j += 2) {
      const c = dv.getUint16(j, true);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    parts.push({ number: i + 1, start: first * ss, size: (last - first + 1) * ss, type: guid(e, 0), uuid: guid(e, 16), name });
  }
  return parts;
}

export async function readGpt(disk: BlockDevice, sectorSize?: number): Promise<PartitionTable> {
  const ss = sectorSize ?? await detectGptSectorSize(disk) ?? 512;
  const warnings: string[] = [];
  let primaryErr: Error | undefined;
  try {
    const h = await readHeader(disk, ss, 1, 'primary');
    return { scheme: 'gpt', sectorSize: ss, partitions: await readEntries(disk, ss, h, 'primary'), diskId: h.diskGuid, warnings };
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    primaryErr = err;
  }
  // The primary copy is damaged: the backup header sits in the disk's last LBA.
  const lastLba = Math.floor(disk.size / ss) - 1;
  try {
    const h = await readHeader(disk, ss, lastLba, 'backup');
    warnings.push(`${primaryErr.message}; using the backup GPT`);
    return { scheme: 'gpt', sectorSize: ss, partitions: await readEntries(disk, ss, h, 'backup'), diskId: h.diskGuid, warnings };
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    throw new ImageError(`${primaryErr.message}, and the backup GPT is unusable too (${err.message})`);
  }
}
