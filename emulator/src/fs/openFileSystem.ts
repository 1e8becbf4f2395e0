// Opens the filesystem on a volume by content: ext2/3/4, vfat, iso9660. Anything else that blkid
// would recognise is refused as "unsupported filesystem" with its type.
import { type BlockDevice, ImageError } from '../block/blockDevice';
import { probeFilesystem, READABLE_FS } from '../volumes/probe';
import { ExtFileSystem } from './ext/extFs';
import { FatFileSystem } from './fat/fatFs';
import type { FsDriver } from './fileSystem';
import { IsoFileSystem } from './iso/isoFs';
import { VolumeFileSystem } from './volumeFs';

export async function openFileSystem(device: BlockDevice, volumeName = 'volume'): Promise<VolumeFileSystem> {
  const type = await probeFilesystem(device);
  if (type === null) throw new ImageError(`${volumeName}: no filesystem found`);
  if (!READABLE_FS.has(type)) throw new ImageError(`${volumeName}: unsupported filesystem (${type})`);
  let driver: FsDriver;
  switch (type) {
    case 'vfat': driver = await FatFileSystem.open(device); break;
    case 'iso9660': driver = await IsoFileSystem.open(device); break;
    default: driver = await ExtFileSystem.open(device);
  }
  return new VolumeFileSystem(driver);
}
