// Read-only FAT12/16/32 with VFAT long names. The FAT type follows from the cluster count (as the
// spec and Linux decide it), never from the label string. Chains are checked for loops and range.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';
import { CachedDevice } from '../cachedDevice';
import { type DirEntry, FsError, type FsDriver, type Inode } from '../fileSystem';

/** Refuse to load a FAT bigger than this into memory (a 2 TiB FAT32 volume with 4 KiB clusters has 512 MiB). */
const MAX_FAT_BYTES = 256 * 1024 * 1024;
/** The FAT spec caps a directory at 65536 entries. */
const MAX_DIR_ENTRIES = 65536;
const ATTR = { READ_ONLY: 0x01, HIDDEN: 0x02, SYSTEM: 0x04, VOLUME_ID: 0x08, DIRECTORY: 0x10, ARCHIVE: 0x20, LFN: 0x0f } as const;
const FILE_ID_BASE = 2 ** 40;

interface FatInode extends Inode { cluster: number; attr: number }

export class FatFileSystem implements FsDriver {
  readonly type = 'vfat';
  readonly label: string;
  readonly fatBits: 12 | 16 | 32;
  private readonly chains = new Map<number, number[]>();

  private constructor(private readonly dev: BlockDevice, private readonly fat: Uint8Array, private readonly geo: {
    bps: number; clusterBytes: number; firstDataByte: number; clusterCount: number; rootDirByte: number; rootDirBytes: number; rootCluster: number;
  }, fatBits: 12 | 16 | 32, label: string) {
    this.fatBits = fatBits;
    this.label = label;
  }

  static async open(device: BlockDevice): Promise<FatFileSystem> {
    const boot = await device.read(0, 512);
    const dv = view(boot);
    const bad = (what: string, off: number): never => { throw new ImageError(`FAT boot sector: ${what}`, 'FAT BPB', off); };
    const bps = dv.getUint16(11, true);
    const spc = boot[13];
    const reserved = dv.getUint16(14, true);
    const nfats = boot[16];
    const rootEntries = dv.getUint16(17, true);
    const totSec = dv.getUint16(19, true) || dv.getUint32(32, true);
    const fatSz = dv.getUint16(22, true) || dv.getUint32(36, true);
    if (![512, 1024, 2048, 4096].includes(bps)) bad(`bytes per sector ${bps} is invalid`, 11);
    if (!spc || spc & (spc - 1)) bad(`sectors per cluster ${spc} is invalid`, 13);
    if (!reserved || !nfats || !fatSz || !totSec) bad('zero reserved sectors, FAT count, FAT size or total sectors', 14);
    const rootDirSectors = Math.ceil((rootEntries * 32) / bps);
    const firstDataSector = reserved + nfats * fatSz + rootDirSectors;
    if (firstDataSector >= totSec) bad('the FATs and root directory fill the whole volume', 22);
    if (totSec * bps > device.size) bad(`volume claims ${totSec * bps} bytes but has ${device.size}`, 19);
    const clusterCount = Math.floor((totSec - firstDataSector) / spc);
    const fatBits = clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32;
    if (fatBits === 32 && rootEntries !== 0) bad('FAT32 volume with a fixed root directory', 17);
    if (fatBits !== 32 && rootEntries === 0) bad('FAT12/16 volume without root directory entries', 17);
    const fatBytes = Math.ceil(((clusterCount + 2) * fatBits) / 8);
    if (fatBytes > fatSz * bps) bad(`FAT of ${fatSz} sectors is too small for ${clusterCount} clusters`, 22);
    if (fatBytes > MAX_FAT_BYTES) bad(`FAT of ${fatBytes} bytes is larger than this reader allows`, 22);
    const fat = await device.read(reserved * bps, fatBytes);
    const labelOff = fatBits === 32 ? 71 : 43;
    let label = String.fromCharCode(...boot.subarray(labelOff, labelOff + 11)).trimEnd();
    if (label === 'NO NAME') label = '';
    return new FatFileSystem(new CachedDevice(device), fat, {
      bps, clusterBytes: spc * bps, firstDataByte: firstDataSector * bps, clusterCount,
      rootDirByte: (reserved + nfats * fatSz) * bps, rootDirBytes: rootDirSectors * bps,
      rootCluster: fatBits === 32 ? dv.getUint32(44, true) : 0,
    }, fatBits, label);
  }

  private next(cluster: number): number {
    const f = this.fat;
    switch (this.fatBits) {
      case 12: {
        const o = cluster + (cluster >> 1);
        const v = f[o] | (f[o + 1] << 8);
        return cluster & 1 ? v >> 4 : v & 0xfff;
      }
      case 16: return f[cluster * 2] | (f[cluster * 2 + 1] << 8);
      default: return view(f).getUint32(cluster * 4, true) & 0x0fffffff;
    }
  }

  /** The cluster chain starting at `first`, validated: in range, loop-free. */
  private chain(first: number): number[] {
    const cached = this.chains.get(first);
    if (cached) return cached;
    const eoc = this.fatBits === 12 ? 0xff8 : this.fatBits === 16 ? 0xfff8 : 0x0ffffff8;
    const maxCluster = this.geo.clusterCount + 1;
    const out: number[] = [];
    let c = first;
    while (c < eoc) {
      if (c < 2 || c > maxCluster) throw new ImageError(`cluster chain from ${first} reaches invalid cluster ${c}`, 'FAT', c);
      if (out.length > this.geo.clusterCount) throw new ImageError(`cluster chain from ${first} loops`, 'FAT', first);
      out.push(c);
      c = this.next(c);
    }
    if (this.chains.size > 256) this.chains.clear();
    this.chains.set(first, out);
    return out;
  }

  private clusterOffset(c: number): number { return this.geo.firstDataByte + (c - 2) * this.geo.clusterBytes; }

  async root(): Promise<Inode> {
    return { id: this.geo.rootCluster, type: 'dir', size: 0, mode: 0o40755, mtime: 0, uid: 0, gid: 0, nlink: 2, cluster: this.geo.rootCluster, attr: ATTR.DIRECTORY } as FatInode;
  }

  private async dirBytes(dir: FatInode): Promise<Uint8Array> {
    if (dir.cluster === 0) {
      if (this.fatBits === 32) throw new ImageError('directory entry points to cluster 0', 'FAT dirent');
      return this.dev.read(this.geo.rootDirByte, this.geo.rootDirBytes);
    }
    const chain = this.chain(dir.cluster);
    if (chain.length * this.geo.clusterBytes > MAX_DIR_ENTRIES * 32) throw new ImageError(`directory at cluster ${dir.cluster} is larger than FAT allows`, 'FAT dirent');
    const out = new Uint8Array(chain.length * this.geo.clusterBytes);
    for (let i = 0; i < chain.length; i++) out.set(await this.dev.read(this.clusterOffset(chain[i]), this.geo.clusterBytes), i * this.geo.clusterBytes);
    return out;
  }

  async list(dir: Inode): Promise<DirEntry[]> {
    const d = dir as FatInode;
    if (d.type !== 'dir') throw new FsError('not a directory', 'ENOTDIR');
    const buf = await this.dirBytes(d);
    const dv = view(buf);
    const out: DirEntry[] = [];
    let lfn: string[] = [];
    let lfnSum = -1;
    for (let p = 0; p + 32 <= buf.length; p += 32) {
      const first = buf[p];
      if (first === 0) break;
      const attr = buf[p + 11];
      if (first === 0xe5) { lfn = []; continue; }
      if ((attr & 0x3f) === ATTR.LFN) {
        const ord = first & 0x1f;
        if (first & 0x40) { lfn = []; lfnSum = buf[p + 13]; }
        if (ord < 1 || ord > 20 || buf[p + 13] !== lfnSum) { lfn = []; continue; }
        let part = '';
        for (const [s, n] of [[1, 5], [14, 6], [28, 2]] as const) {
          for (let k = 0; k < n; k++) {
            const ch = dv.getUint16(p + s + 2 * k, true);
            if (ch === 0 || ch === 0xffff) { k = n; continue; }
            part += String.fromCharCode(ch);
          }
        }
        lfn[ord - 1] = part;
        continue;
      }
      if (attr & ATTR.VOLUME_ID) { lfn = []; continue; }
      const short = this.shortName(buf, p);
      let name = short;
      if (lfn.length && this.checksum(buf, p) === lfnSum && !lfn.includes(undefined as unknown as string)) name = lfn.join('');
      lfn = [];
      if (name === '.' || name === '..') continue;
      const cluster = (this.fatBits === 32 ? dv.getUint16(p + 20, true) << 16 : 0) | dv.getUint16(p + 26, true);
      const isDir = (attr & ATTR.DIRECTORY) !== 0;
      const ro = (attr & ATTR.READ_ONLY) !== 0;
      const node: FatInode = {
        id: isDir ? cluster : FILE_ID_BASE + p + this.clusterOffset(Math.max(d.cluster, 2)),
        type: isDir ? 'dir' : 'file',
        size: isDir ? 0 : dv.getUint32(p + 28, true),
        mode: isDir ? 0o40755 : ro ? 0o100555 : 0o100755,
        mtime: fatTime(dv.getUint16(p + 24, true), dv.getUint16(p + 22, true)),
        uid: 0, gid: 0, nlink: 1, cluster, attr,
      };
      if (isDir && cluster === 0) throw new ImageError(`directory "${name}" points to cluster 0`, 'FAT dirent', p);
      out.push({ name, inode: node });
    }
    return out;
  }

  private shortName(buf: Uint8Array, p: number): string {
    const nt = buf[p + 12];
    let base = String.fromCharCode(...buf.subarray(p, p + 8)).trimEnd();
    let ext = String.fromCharCode(...buf.subarray(p + 8, p + 11)).trimEnd();
    if (buf[p] === 0x05) base = '\u00e5' + base.slice(1);
    if (nt & 0x08) base = base.toLowerCase();
    if (nt & 0x10) ext = ext.toLowerCase();
    return ext ? `${base}.${ext}` : base;
  }

  private checksum(buf: Uint8Array, p: number): number {
    let sum = 0;
    for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + buf[p + i]) & 0xff;
    return sum;
  }

  async readlink(): Promise<string> { throw new FsError('FAT has no symbolic links', 'EINVAL'); }

  async read(file: Inode, offset: number, length: number): Promise<Uint8Array> {
    const f = file as FatInode;
    const end = Math.min(f.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const chain = f.cluster ? this.chain(f.cluster) : [];
    const cb = this.geo.clusterBytes;
    if (chain.length * cb < f.size) throw new ImageError(`file of ${f.size} bytes has only ${chain.length} clusters`, 'FAT chain', f.cluster);
    const out = new Uint8Array(end - offset);
    let pos = offset;
    while (pos < end) {
      const idx = Math.floor(pos / cb);
      // Coalesce physically consecutive clusters into one read.
      let run = 1;
      while (idx + run < chain.length && chain[idx + run] === chain[idx] + run && (idx + run) * cb < end) run++;
      const within = pos - idx * cb;
      const n = Math.min(end - pos, run * cb - within);
      out.set(await this.dev.read(this.clusterOffset(chain[idx]) + within, n), pos - offset);
      pos += n;
    }
    return out;
  }
}

function fatTime(date: number, time: number): number {
  if (date === 0) return 0;
  const y = 1980 + (date >> 9);
  const mo = ((date >> 5) & 15) - 1;
  const d = date & 31;
  return Date.UTC(y, mo, d, time >> 11, (time >> 5) & 63, (time & 31) * 2) / 1000;
}
