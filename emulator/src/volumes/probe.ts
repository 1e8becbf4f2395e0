// Content probing in the spirit of blkid: which filesystem or volume signature a device carries,
// named the way blkid names it (TYPE=). Only signatures are checked here; the readers validate.
import type { BlockDevice } from '../block/blockDevice';
import { ascii, view } from './binary';

/** Types this project can open as a filesystem; every other detected type is "unsupported". */
export const READABLE_FS = new Set(['ext2', 'ext3', 'ext4', 'vfat', 'iso9660']);

async function at(dev: BlockDevice, offset: number, length: number): Promise<Uint8Array | undefined> {
  if (offset + length > dev.size) return undefined;
  return dev.read(offset, length);
}

const EXT3_INCOMPAT_OK = 0x0002 | 0x0004 | 0x0010; // filetype, recover, meta_bg
const EXT3_RO_COMPAT_OK = 0x0001 | 0x0002 | 0x0004; // sparse_super, large_file, btree_dir

/** blkid's rule: anything beyond what ext3 understood makes it ext4; a journal makes it ext3. */
export function extFlavour(sb: Uint8Array): 'ext2' | 'ext3' | 'ext4' {
  const dv = view(sb);
  const compat = dv.getUint32(92, true);
  const incompat = dv.getUint32(96, true);
  const roCompat = dv.getUint32(100, true);
  if ((incompat & ~EXT3_INCOMPAT_OK) !== 0 || (roCompat & ~EXT3_RO_COMPAT_OK) !== 0) return 'ext4';
  return compat & 0x0004 ? 'ext3' : 'ext2';
}

export function looksLikeFat(boot: Uint8Array): boolean {
  if (boot.length < 512) return false;
  const dv = view(boot);
  const bps = dv.getUint16(11, true);
  const spc = boot[13];
  const reserved = dv.getUint16(14, true);
  const fats = boot[16];
  const media = boot[21];
  const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
  if (!(boot[0] === 0xeb || boot[0] === 0xe9)) return false;
  if (!pow2(bps) || bps < 512 || bps > 4096 || !pow2(spc) || reserved === 0 || fats === 0 || fats > 4) return false;
  if (!(media === 0xf0 || media >= 0xf8)) return false;
  const label = ascii(boot, 54, 59) === 'FAT12' || ascii(boot, 54, 59) === 'FAT16' || ascii(boot, 54, 57) === 'FAT'
    || ascii(boot, 82, 87) === 'FAT32' || ascii(boot, 3, 8) === 'MSWIN' || ascii(boot, 3, 8) === 'MSDOS' || ascii(boot, 3, 11) === 'mkfs.fat';
  return label || (boot[510] === 0x55 && boot[511] === 0xaa);
}

/** The blkid TYPE of the content of `dev`, or null when nothing is recognised. */
export async function probeFilesystem(dev: BlockDevice): Promise<string | null> {
  const head = await at(dev, 0, Math.min(dev.size, 4096));
  if (!head) return null;
  // Volume formats and signatures at the very start come first.
  for (let s = 0; s < 4; s++) {
    if (head.length >= s * 512 + 32 && ascii(head, s * 512, s * 512 + 8) === 'LABELONE' && ascii(head, s * 512 + 24, s * 512 + 32) === 'LVM2 001') return 'LVM2_member';
  }
  if (ascii(head, 0, 6) === 'LUKS\xba\xbe') return 'crypto_LUKS';
  if (ascii(head, 0, 4) === 'XFSB') return 'xfs';
  if (ascii(head, 0, 4) === 'hsqs') return 'squashfs';
  if (ascii(head, 3, 11) === 'NTFS    ') return 'ntfs';
  if (ascii(head, 3, 11) === 'EXFAT   ') return 'exfat';
  const iso = await at(dev, 32768, 8);
  if (iso && iso[0] >= 1 && iso[0] <= 255 && ascii(iso, 1, 6) === 'CD001') return 'iso9660';
  const ext = await at(dev, 1024, 1024);
  if (ext && view(ext).getUint16(56, true) === 0xef53) {
    // A journal device (external ext3/4 journal) carries the same magic.
    if (view(ext).getUint32(96, true) & 0x0008) return 'jbd';
    return extFlavour(ext);
  }
  if (ext && view(ext).getUint32(0, true) === 0xf2f52010) return 'f2fs';
  const btrfs = await at(dev, 65536 + 64, 8);
  if (btrfs && ascii(btrfs, 0, 8) === '_BHRfS_M') return 'btrfs';
  for (const page of [4096, 8192, 16384, 65536]) {
    const sig = await at(dev, page - 10, 10);
    if (sig && (ascii(sig, 0, 10) === 'SWAPSPACE2' || ascii(sig, 0, 10) === 'SWAP-SPACE')) return 'swap';
  }
  const md = await at(dev, 4096, 4);
  if ((md && view(md).getUint32(0, true) === 0xa92b4efc) || (head.length >= 4 && view(head).getUint32(0, true) === 0xa92b4efc)) return 'linux_raid_member';
  const jfs = await at(dev, 32768, 4);
  if (jfs && ascii(jfs, 0, 4) === 'JFS1') return 'jfs';
  const reiser = await at(dev, 65536 + 52, 10);
  if (reiser && ascii(reiser, 0, 8).startsWith('ReIsEr')) return 'reiserfs';
  if (looksLikeFat(head)) return 'vfat';
  return null;
}
