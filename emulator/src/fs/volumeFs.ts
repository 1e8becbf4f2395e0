// Paths over an FsDriver: resolution with "..", symlinks (40 hops, like Linux), stat/lstat,
// readdir with attributes, ranged reads and a chunked stream for cat and the FileSystemProvider.
import { ImageError } from '../block/blockDevice';
import { type FileType, FsError, type FsDriver, type Inode } from './fileSystem';

const MAX_SYMLINK_HOPS = 40;
const STREAM_CHUNK = 1024 * 1024;

export interface Stat { type: FileType; size: number; mode: number; mtime: number; uid: number; gid: number; nlink: number; target?: string }
export interface ListedEntry extends Stat { name: string }

export class VolumeFileSystem {
  constructor(readonly driver: FsDriver) {}

  get type(): string { return this.driver.type; }

  private split(path: string): string[] {
    if (!path.startsWith('/')) throw new FsError(`path "${path}" must be absolute (start with /)`, 'EINVAL');
    return path.split('/').filter((c) => c !== '' && c !== '.');
  }

  /** Recent directory listings by inode id, so resolving many paths in one directory stays linear. */
  private readonly listings = new Map<number, Map<string, Inode>>();

  private async lookup(dir: Inode, name: string): Promise<Inode | undefined> {
    if (this.driver.lookup) return this.driver.lookup(dir, name);
    let names = this.listings.get(dir.id);
    if (!names) {
      names = new Map((await this.driver.list(dir)).map((e) => [e.name, e.inode]));
      if (this.listings.size >= 16) this.listings.delete(this.listings.keys().next().value!);
      this.listings.set(dir.id, names);
    }
    return names.get(name);
  }

  /** Resolves a path to its inode; the last component's symlink is followed unless `lstat`. */
  async resolve(path: string, follow = true): Promise<Inode> {
    let hops = 0;
    const root = await this.driver.root();
    const walk = async (components: string[], stack: Inode[]): Promise<Inode> => {
      for (let i = 0; i < components.length; i++) {
        const name = components[i];
        const cur = stack[stack.length - 1];
        if (name === '..') { if (stack.length > 1) stack.pop(); continue; }
        if (cur.type !== 'dir') throw new FsError(`${'/' + components.slice(0, i).join('/')}: not a directory`, 'ENOTDIR');
        const next = await this.lookup(cur, name);
        if (!next) throw new FsError(`${'/' + components.slice(0, i + 1).join('/')}: no such file or directory`, 'ENOENT');
        const last = i === components.length - 1;
        if (next.type === 'symlink' && (!last || follow)) {
          if (++hops > MAX_SYMLINK_HOPS) throw new FsError(`${path}: too many levels of symbolic links`, 'ELOOP');
          const target = await this.driver.readlink(next);
          const rest = components.slice(i + 1);
          const base = target.startsWith('/') ? [root] : stack;
          return walk([...target.split('/').filter((c) => c !== '' && c !== '.'), ...rest], [...base]);
        }
        stack.push(next);
      }
      return stack[stack.length - 1];
    };
    return walk(this.split(path), [root]);
  }

  private async describe(node: Inode): Promise<Stat> {
    const s: Stat = { type: node.type, size: node.size, mode: node.mode, mtime: node.mtime, uid: node.uid, gid: node.gid, nlink: node.nlink };
    if (node.type === 'symlink') s.target = await this.driver.readlink(node);
    return s;
  }

  stat(path: string): Promise<Stat> { return this.resolve(path, true).then((n) => this.describe(n)); }
  lstat(path: string): Promise<Stat> { return this.resolve(path, false).then((n) => this.describe(n)); }

  async readlink(path: string): Promise<string> {
    const n = await this.resolve(path, false);
    if (n.type !== 'symlink') throw new FsError(`${path}: not a symbolic link`, 'EINVAL');
    return this.driver.readlink(n);
  }

  /** Directory entries with their attributes (symlinks are not followed), sorted by name. */
  async readdir(path: string): Promise<ListedEntry[]> {
    const dir = await this.resolve(path, true);
    if (dir.type !== 'dir') throw new FsError(`${path}: not a directory`, 'ENOTDIR');
    return this.listInode(dir);
  }

  async listInode(dir: Inode): Promise<ListedEntry[]> {
    const entries = await this.driver.list(dir);
    const out: ListedEntry[] = [];
    for (const e of entries) out.push({ name: e.name, ...(await this.describe(e.inode)) });
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Walks a tree depth-first, yielding absolute paths; directories are visited once (no cycles). */
  async *walk(path: string): AsyncGenerator<{ path: string; entry: ListedEntry }> {
    const start = await this.resolve(path, true);
    if (start.type !== 'dir') throw new FsError(`${path}: not a directory`, 'ENOTDIR');
    const seen = new Set<number>([start.id]);
    const pending: { path: string; dir: Inode }[] = [{ path: path === '/' ? '' : path.replace(/\/+$/, ''), dir: start }];
    while (pending.length) {
      const { path: p, dir } = pending.shift()!;
      const entries = await this.driver.list(dir);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: { path: string; dir: Inode }[] = [];
      for (const e of entries) {
        const full = `${p}/${e.name}`;
        yield { path: full, entry: { name: e.name, ...(await this.describe(e.inode)) } };
        if (e.inode.type === 'dir' && !seen.has(e.inode.id)) { seen.add(e.inode.id); subdirs.push({ path: full, dir: e.inode }); }
      }
      pending.unshift(...subdirs);
    }
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    const n = await this.file(path);
    return this.driver.read(n, offset, Math.max(0, Math.min(length, n.size - offset)));
  }

  private async file(path: string): Promise<Inode> {
    const n = await this.resolve(path, true);
    if (n.type === 'dir') throw new FsError(`${path}: is a directory`, 'EISDIR');
    if (n.type !== 'file') throw new FsError(`${path}: not a regular file`, 'EINVAL');
    return n;
  }

  /** The bytes [start, end) of a file in chunks of at most 1 MiB, never the whole file in memory. */
  async *stream(path: string, range: { start?: number; end?: number } = {}): AsyncGenerator<Uint8Array> {
    const n = await this.file(path);
    const end = Math.min(n.size, range.end ?? n.size);
    for (let off = range.start ?? 0; off < end; off += STREAM_CHUNK) {
      const chunk = await this.driver.read(n, off, Math.min(STREAM_CHUNK, end - off));
      if (chunk.length !== Math.min(STREAM_CHUNK, end - off)) throw new ImageError(`${path}: short read at ${off}`);
      yield chunk;
    }
  }
}
