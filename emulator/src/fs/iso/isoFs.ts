// Read-only ISO 9660 with Rock Ridge (POSIX names, modes, symlinks, times, relocated directories)
// and Joliet (UCS-2 names). Rock Ridge wins when present, then Joliet, then plain 8.3;1 names.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';
import { CachedDevice } from '../cachedDevice';
import { type DirEntry, fileTypeOfMode, type FileType, FsError, type FsDriver, type Inode } from '../fileSystem';
import { parseSystemUse, recordingTime, type RockRidge } from './rockRidge';

const SECTOR = 2048;
const MAX_DESCRIPTORS = 64;
const MAX_DIR_BYTES = 64 * 1024 * 1024;

interface IsoInode extends Inode { extents: { lba: number; length: number }[]; rr?: RockRidge; symlink?: string }

export class IsoFileSystem implements FsDriver {
  readonly type = 'iso9660';
  readonly label: string;
  /** Which namespace is shown: 'rockridge', 'joliet' or 'iso9660'. */
  readonly naming: 'rockridge' | 'joliet' | 'iso9660';
  private rootNode?: IsoInode;

  private constructor(private readonly dev: BlockDevice, private readonly rootRecord: Uint8Array, naming: IsoFileSystem['naming'],
    private readonly susp: { skip: number }, label: string) {
    this.naming = naming;
    this.label = label;
  }

  static async open(device: BlockDevice): Promise<IsoFileSystem> {
    const cached = new CachedDevice(device);
    let primary: Uint8Array | undefined;
    let joliet: Uint8Array | undefined;
    for (let i = 0; i < MAX_DESCRIPTORS; i++) {
      const at = (16 + i) * SECTOR;
      if (at + SECTOR > device.size) break;
      const vd = await cached.read(at, SECTOR);
      if (String.fromCharCode(...vd.subarray(1, 6)) !== 'CD001') throw new ImageError('volume descriptor without CD001', 'ISO volume descriptor', at);
      if (vd[0] === 255) break;
      if (vd[0] === 1 && !primary) primary = vd;
      // Joliet: a supplementary descriptor whose escape sequence selects UCS-2 level 1–3.
      if (vd[0] === 2 && vd[88] === 0x25 && vd[89] === 0x2f && [0x40, 0x43, 0x45].includes(vd[90])) joliet = vd;
    }
    if (!primary) throw new ImageError('no primary volume descriptor', 'ISO volume descriptor', 16 * SECTOR);
    const blockSize = view(primary).getUint16(128, true);
    if (blockSize !== SECTOR) throw new ImageError(`logical block size ${blockSize} is not supported`, 'ISO primary descriptor', 16 * SECTOR + 128);
    const fs = new IsoFileSystem(cached, primary.slice(156, 190), 'iso9660', { skip: 0 }, String.fromCharCode(...primary.subarray(40, 72)).trimEnd());
    // Rock Ridge announces itself with an SP entry in the root's "." record (and an ER entry).
    const rootDir = fs.record(primary.slice(156, 190), 16 * SECTOR + 156);
    const first = await fs.dirBytesOf(rootDir.extents[0].lba, Math.min(rootDir.size, SECTOR));
    const dot = first.subarray(0, first[0]);
    const nameLen = dot[32];
    let suStart = 33 + nameLen + ((nameLen + 1) & 1);
    if (dot.length >= suStart + 7 && dot[suStart] === 0x53 && dot[suStart + 1] === 0x50 && dot[suStart + 4] === 0xbe && dot[suStart + 5] === 0xef) {
      return new IsoFileSystem(cached, primary.slice(156, 190), 'rockridge', { skip: dot[suStart + 6] }, fs.label);
    }
    suStart = 0;
    if (joliet) {
      const label = new TextDecoder('utf-16be').decode(joliet.subarray(40, 72)).trimEnd();
      return new IsoFileSystem(cached, joliet.slice(156, 190), 'joliet', { skip: 0 }, label || fs.label);
    }
    return fs;
  }

  private async dirBytesOf(lba: number, length: number): Promise<Uint8Array> {
    const at = lba * SECTOR;
    if (at + length > this.dev.size) throw new ImageError(`extent at block ${lba} lies past the end of the image`, 'ISO directory record', at);
    return this.dev.read(at, length);
  }

  /** Decodes one directory record (without Rock Ridge), `at` is its byte offset for errors. */
  private record(rec: Uint8Array, at: number): IsoInode {
    const dv = view(rec);
    const lba = dv.getUint32(2, true);
    const length = dv.getUint32(10, true);
    const flags = rec[25];
    const isDir = (flags & 2) !== 0;
    if (lba * SECTOR + (isDir ? length : 0) > this.dev.size + SECTOR) throw new ImageError(`extent at block ${lba} lies past the end of the image`, 'ISO directory record', at + 2);
    return {
      id: lba, type: isDir ? 'dir' : 'file', size: length, mode: isDir ? 0o40555 : 0o100444,
      mtime: recordingTime(rec.subarray(18, 25)), uid: 0, gid: 0, nlink: 1, extents: [{ lba, length }],
    };
  }

  async root(): Promise<Inode> {
    if (!this.rootNode) {
      this.rootNode = this.record(this.rootRecord, 16 * SECTOR + 156);
      if (this.naming === 'rockridge') {
        const buf = await this.dirBytesOf(this.rootNode.extents[0].lba, Math.min(this.rootNode.size, SECTOR));
        const rr = await this.rockRidge(buf.subarray(0, buf[0]), this.rootNode.extents[0].lba * SECTOR);
        if (rr?.mode !== undefined) this.rootNode = { ...this.rootNode, mode: rr.mode, uid: rr.uid ?? 0, gid: rr.gid ?? 0, nlink: rr.nlink ?? 1, mtime: rr.mtime ?? this.rootNode.mtime };
      }
    }
    return this.rootNode;
  }

  private async rockRidge(rec: Uint8Array, at: number): Promise<RockRidge | undefined> {
    const nameLen = rec[32];
    const start = 33 + nameLen + ((nameLen + 1) & 1) + this.susp.skip;
    if (start >= rec.length) return undefined;
    return parseSystemUse(rec.subarray(start), at + start, (lba, off, len) => {
      if (lba * SECTOR + off + len > this.dev.size || off + len > SECTOR) throw new ImageError('Rock Ridge continuation area lies outside the image', 'SUSP CE', at);
      return this.dev.read(lba * SECTOR + off, len);
    });
  }

  async list(dir: Inode): Promise<DirEntry[]> {
    const d = dir as IsoInode;
    if (d.type !== 'dir') throw new FsError('not a directory', 'ENOTDIR');
    if (d.size > MAX_DIR_BYTES) throw new ImageError(`directory at block ${d.id} is ${d.size} bytes long`, 'ISO directory record');
    const base = d.extents[0].lba * SECTOR;
    const buf = await this.dirBytesOf(d.extents[0].lba, d.size);
    const out: DirEntry[] = [];
    let pending: IsoInode | undefined; // a multi-extent file being assembled
    let p = 0;
    while (p < buf.length) {
      const len = buf[p];
      if (len === 0) { p = (Math.floor(p / SECTOR) + 1) * SECTOR; continue; } // records never cross sectors
      if (len < 34 || p + len > buf.length || (p % SECTOR) + len > SECTOR) throw new ImageError(`malformed directory record (length ${len})`, 'ISO directory record', base + p);
      const rec = buf.subarray(p, p + len);
      const at = base + p;
      p += len;
      const nameLen = rec[32];
      if (33 + nameLen > len) throw new ImageError('directory record name runs past the record', 'ISO directory record', at);
      if (nameLen === 1 && (rec[33] === 0 || rec[33] === 1)) continue; // "." and ".."
      let node = this.record(rec, at);
      let name: string;
      if (this.naming === 'rockridge') {
        const rr = await this.rockRidge(rec, at);
        if (rr?.relocated) continue; // RE: shown at its original place through a CL entry
        if (rr?.childLink !== undefined) {
          const target = await this.dirBytesOf(rr.childLink, SECTOR);
          const dot = this.record(target.subarray(0, target[0]), rr.childLink * SECTOR);
          node = { ...node, type: 'dir', extents: dot.extents, size: dot.size, id: dot.id };
        }
        name = rr?.name ?? isoName(rec, nameLen);
        if (rr) {
          const type: FileType = rr.mode === undefined ? node.type : fileTypeOfMode(rr.mode);
          node = { ...node, type, mode: rr.mode ?? node.mode, uid: rr.uid ?? 0, gid: rr.gid ?? 0, nlink: rr.nlink ?? 1, mtime: rr.mtime ?? node.mtime, rr, symlink: rr.symlink };
          if (type === 'symlink') node = { ...node, size: rr.symlink?.length ?? 0, id: at + 2 ** 40 };
          else if (type === 'other') node = { ...node, size: 0, id: at + 2 ** 40 };
        }
      } else if (this.naming === 'joliet') {
        name = new TextDecoder('utf-16be').decode(rec.subarray(33, 33 + nameLen)).replace(/;\d+$/, '');
      } else {
        name = isoName(rec, nameLen);
      }
      if (node.type === 'file') node = { ...node, id: at + 2 ** 40 };
      if (pending) {
        pending.extents.push(...node.extents);
        (pending as { size: number }).size += node.size;
        if (!(rec[25] & 0x80)) { out.push({ name, inode: pending }); pending = undefined; }
        continue;
      }
      if (rec[25] & 0x80 && node.type === 'file') { pending = { ...node, extents: [...node.extents] }; continue; }
      out.push({ name, inode: node });
    }
    if (pending) throw new ImageError('multi-extent file has no final extent', 'ISO directory record', base);
    return out;
  }

  async readlink(link: Inode): Promise<string> {
    const l = link as IsoInode;
    if (l.type !== 'symlink' || l.symlink === undefined) throw new FsError('not a symbolic link', 'EINVAL');
    return l.symlink;
  }

  async read(file: Inode, offset: number, length: number): Promise<Uint8Array> {
    const f = file as IsoInode;
    const end = Math.min(f.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    let extStart = 0;
    for (const e of f.extents) {
      const extEnd = extStart + e.length;
      const from = Math.max(offset, extStart);
      const to = Math.min(end, extEnd);
      if (from < to) {
        const at = e.lba * SECTOR + (from - extStart);
        if (at + (to - from) > this.dev.size) throw new ImageError(`file data at block ${e.lba} lies past the end of the image`, 'ISO extent', at);
        out.set(await this.dev.read(at, to - from), from - offset);
      }
      extStart = extEnd;
    }
    return out;
  }
}

function isoName(rec: Uint8Array, nameLen: number): string {
  const raw = String.fromCharCode(...rec.subarray(33, 33 + nameLen));
  return raw.replace(/;\d+$/, '').replace(/\.$/, '');
}

