// Is this file a disk image? Decided by content, as the block layer does: a known image header,
// or raw bytes that carry a partition table, an LVM label, a filesystem or an ISO 9660 descriptor.
import { open } from 'node:fs/promises';

const HEADERS = ['QFI\xfb', 'KDMV', 'vhdxfile', 'conectix', '# Disk DescriptorFile'];

export async function looksLikeDiskImage(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
    const st = await handle.stat();
    if (!st.isFile() || st.size < 1024) return false;
    const head = Buffer.alloc(Math.min(st.size, 0x8006));
    await handle.read(head, 0, head.length, 0);
    const text = head.toString('latin1', 0, 64);
    if (HEADERS.some((h) => text.startsWith(h))) return true;
    if (head.readUInt32LE(64) === 0xbeda107f) return true; // VDI
    if (head.toString('latin1', 512, 520) === 'EFI PART') return true; // GPT
    if (head.toString('latin1', 512, 520) === 'LABELONE') return true; // LVM PV
    if (head.length > 0x8005 && head.toString('latin1', 0x8001, 0x8006) === 'CD001') return true; // ISO 9660
    if (head.length >= 0x43a && head.readUInt16LE(0x438) === 0xef53) return true; // ext2/3/4 superblock
    if (head[510] === 0x55 && head[511] === 0xaa) {
      // An MBR or a FAT boot sector: check that the partition entries are sane or it says FAT.
      const fat = /FAT(12|16|32)?/.test(head.toString('latin1', 0x36, 0x3e) + head.toString('latin1', 0x52, 0x5a));
      const statusOk = [0, 1, 2, 3].every((i) => (head[446 + i * 16] & 0x7f) === 0);
      return fat || statusOk;
    }
    // A fixed VHD has its footer at the very end.
    if (st.size % 512 === 0) {
      const foot = Buffer.alloc(8);
      await handle.read(foot, 0, 8, st.size - 512);
      if (foot.toString('latin1') === 'conectix') return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
