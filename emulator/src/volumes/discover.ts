// Everything inside a set of disk images, named the way the CLI and the explorer show it:
// `disk` (the whole image), `p1`, `p2`, ... (partitions), `VG/LV` (logical volumes), and
// `VG/LV/p1` for partitions of a guest disk held in an LV. When several images are given, the
// second image's volumes are `disk@2`, `p1@2`, ...; LVs are VG-wide.
import { type BlockDevice, ImageError } from '../block/blockDevice';
import { detectGptSectorSize, readGpt } from './gpt';
import { type LogicalVolume, type PhysicalVolume, assembleVolumeGroups, readPhysicalVolume } from './lvm/volumeGroup';
import { isProtectiveMbr, looksLikeMbr, readMbr } from './mbr';
import type { PartitionTable } from './partitionTable';
import { probeFilesystem } from './probe';
import { SliceDevice } from './slice';

export interface Volume {
  name: string;
  kind: 'disk' | 'partition' | 'lv';
  /** Byte offset within its image (disk, partition); null for LVs, which may span images. */
  offset: number | null;
  size: number;
  /** blkid TYPE of the content, or null. */
  fs: string | null;
  /** Partition-table scheme on a disk ("gpt", "dos"), partition type, LV segment types. */
  detail?: string;
  /** Why the volume cannot be read (missing PV, unsupported segment type, ...). */
  error?: string;
  open(): Promise<BlockDevice>;
}

export interface DiscoveredVolumes { volumes: Volume[]; warnings: string[] }

/** Reads the partition table of a disk, if there is one (GPT preferred over its protective MBR). */
export async function readPartitionTable(disk: BlockDevice): Promise<PartitionTable | undefined> {
  if (disk.size < 1024) return undefined;
  const gptSector = await detectGptSectorSize(disk);
  const sector0 = await disk.read(0, 512);
  if (gptSector !== undefined || isProtectiveMbr(sector0)) return readGpt(disk, gptSector);
  if (looksLikeMbr(sector0, disk.size, 512)) {
    // A FAT boot sector also ends in 55 AA; a filesystem at offset 0 wins over a table-ish sector.
    const fs = await probeFilesystem(disk);
    if (fs === 'vfat' || fs === 'iso9660' || fs === 'ntfs' || fs === 'exfat') return undefined;
    return readMbr(disk, 512);
  }
  return undefined;
}

export async function discoverVolumes(images: { device: BlockDevice; path: string }[]): Promise<DiscoveredVolumes> {
  const volumes: Volume[] = [];
  const warnings: string[] = [];
  const pvs: PhysicalVolume[] = [];
  const consider = async (v: Volume, dev: BlockDevice) => {
    volumes.push(v);
    if (v.fs === 'LVM2_member') {
      try {
        const pv = await readPhysicalVolume(dev, v.name);
        if (pv) pvs.push(pv);
      } catch (err) {
        if (!(err instanceof ImageError)) throw err;
        v.error = err.message;
        warnings.push(`${v.name}: ${err.message}`);
      }
    }
  };
  for (const [idx, img] of images.entries()) {
    const suffix = idx === 0 ? '' : `@${idx + 1}`;
    const disk = img.device;
    let table: PartitionTable | undefined;
    try {
      table = await readPartitionTable(disk);
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      warnings.push(`${img.path}: ${err.message}`);
    }
    await consider({
      name: `disk${suffix}`, kind: 'disk', offset: 0, size: disk.size,
      fs: table ? null : await probeFilesystem(disk), detail: table ? (table.scheme === 'mbr' ? 'dos' : 'gpt') : undefined,
      open: async () => disk,
    }, disk);
    if (!table) continue;
    warnings.push(...table.warnings.map((w) => `${img.path}: ${w}`));
    for (const p of table.partitions) {
      const name = `p${p.number}${suffix}`;
      if (p.role === 'extended') {
        volumes.push({ name, kind: 'partition', offset: p.start, size: p.size, fs: null, detail: 'extended', open: async () => new SliceDevice(disk, p.start, p.size, name) });
        continue;
      }
      let dev: BlockDevice;
      try {
        dev = new SliceDevice(disk, p.start, p.size, name);
      } catch (err) {
        if (!(err instanceof ImageError)) throw err;
        warnings.push(`${img.path}: ${err.message}`);
        continue;
      }
      await consider({ name, kind: 'partition', offset: p.start, size: p.size, fs: await probeFilesystem(dev), detail: p.name || p.type, open: async () => dev }, dev);
    }
  }
  const { vgs, warnings: lvmWarnings } = await assembleVolumeGroups(pvs);
  warnings.push(...lvmWarnings);
  for (const vg of vgs) {
    if (vg.missingPvs.length) warnings.push(`VG ${vg.name}: missing ${vg.missingPvs.join(', ')}`);
    for (const lv of vg.lvs) {
      if (!lv.visible) continue;
      if (lv.segmentTypes.includes('thin-pool')) continue; // the pool itself holds no filesystem
      const v = await lvVolume(lv);
      volumes.push(v);
      // A guest's whole disk in an LV (libvirt logical pools): list its partitions as VG/LV/pN.
      if (v.fs === null && !v.error) await addNestedPartitions(v, volumes, warnings);
    }
  }
  return { volumes, warnings };
}

async function addNestedPartitions(lv: Volume, volumes: Volume[], warnings: string[]): Promise<void> {
  try {
    const dev = await lv.open();
    const table = await readPartitionTable(dev);
    if (!table) return;
    lv.detail = `${lv.detail},${table.scheme === 'mbr' ? 'dos' : 'gpt'}`;
    warnings.push(...table.warnings.map((w) => `${lv.name}: ${w}`));
    for (const p of table.partitions) {
      const name = `${lv.name}/p${p.number}`;
      const slice = new SliceDevice(dev, p.start, p.size, name);
      const fs = p.role === 'extended' ? null : await probeFilesystem(slice);
      volumes.push({ name, kind: 'partition', offset: p.start, size: p.size, fs, detail: p.role === 'extended' ? 'extended' : p.name || p.type, open: async () => slice });
    }
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    warnings.push(`${lv.name}: ${err.message}`);
  }
}

async function lvVolume(lv: LogicalVolume): Promise<Volume> {
  const v: Volume = { name: `${lv.vg}/${lv.name}`, kind: 'lv', offset: null, size: lv.size, fs: null, detail: lv.segmentTypes.join(','), open: () => lv.open() };
  try {
    v.fs = await probeFilesystem(await lv.open());
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    v.error = err.message;
  }
  return v;
}
