// `virt-studio image volumes|ls|cat`: what is inside disk images — partitions, LVM logical volumes,
// filesystems — read-only, without mounting anything.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { BlockDevice } from '../../../emulator/src/block/blockDevice';
import { openImage } from '../../../emulator/src/block/open';
import { openFileSystem } from '../../../emulator/src/fs/openFileSystem';
import type { ListedEntry, VolumeFileSystem } from '../../../emulator/src/fs/volumeFs';
import { discoverVolumes, type Volume } from '../../../emulator/src/volumes/discover';
import { READABLE_FS } from '../../../emulator/src/volumes/probe';
import { parseArgs, UsageError } from './usage';

export const volumesHelp = `Usage: virt-studio image volumes [--json] IMAGE...

Lists every volume in the images: the whole disk ("disk"), partitions ("p1", "p2", ...), LVM
logical volumes ("VG/LV", assembled across all the given images) and partitions of a guest disk
kept in an LV ("VG/LV/p1"). With several images, the second image's volumes are "disk@2",
"p1@2", ...

Options:
  --json   [{"name","kind":"disk|partition|lv","offset","size","fs"}]; fs is the blkid TYPE
           (ext4, vfat, iso9660, LVM2_member, xfs, swap, ...) or null; offset is null for LVs.`;

export const lsHelp = `Usage: virt-studio image ls [-l] [-R] [--json] IMAGE... VOLUME:/PATH

Lists a directory inside a volume (see "virt-studio image volumes" for names).

Options:
  -l       long format: mode, links, owner, size, modification time, symlink target
  -R       recurse into subdirectories (paths are printed in full)
  --json   [{"path","type":"file|dir|symlink|other","size","mode","mtime","target"}]
           (mtime in seconds since the epoch, target null unless a symlink)`;

export const catHelp = `Usage: virt-studio image cat IMAGE... VOLUME:/PATH

Writes the bytes of a file inside a volume to stdout.`;

/** An error about the image's content (exit status 1), as opposed to a usage error (2). */
class ContentError extends Error {
  readonly exitCode = 1;
}

interface OpenImage { device: BlockDevice; path: string; close(): Promise<void> }

/** Opens each image by content (raw, qcow2 with its backing chain, vmdk, vhdx, vdi, vpc). */
async function openImages(paths: string[]): Promise<OpenImage[]> {
  const out: OpenImage[] = [];
  for (const path of paths) {
    if (!existsSync(path)) {
      await Promise.all(out.map((o) => o.close()));
      throw new UsageError(`cannot open ${path}: no such file`);
    }
    try {
      const img = await openImage(path);
      out.push({ device: img.device, path, close: () => img.close() });
    } catch (err) {
      await Promise.all(out.map((o) => o.close()));
      if ((err as Error).name === 'ImageError') throw new ContentError(`${path}: ${(err as Error).message}`);
      throw new UsageError(`cannot open ${path}: ${(err as Error).message}`);
    }
  }
  return out;
}

async function withImages<T>(paths: string[], fn: (images: OpenImage[]) => Promise<T>): Promise<T> {
  const images = await openImages(paths);
  try {
    return await fn(images);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ContentError) throw err;
    const e = err as Error;
    if (e.name === 'ImageError' || e.name === 'FsError') throw new ContentError(e.message);
    throw err;
  } finally {
    await Promise.all(images.map((i) => i.close()));
  }
}

function splitTarget(spec: string): { volume: string; path: string } {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new UsageError(`"${spec}" is not VOLUME:/PATH (for example p1:/etc/fstab)`);
  const path = spec.slice(colon + 1) || '/';
  if (!path.startsWith('/')) throw new UsageError(`path "${path}" in ${spec} must be absolute`);
  return { volume: spec.slice(0, colon), path };
}

async function openVolume(images: { device: BlockDevice; path: string }[], name: string): Promise<VolumeFileSystem> {
  const { volumes } = await discoverVolumes(images);
  const v = volumes.find((x) => x.name === name);
  if (!v) throw new ContentError(`no volume "${name}" (volumes: ${volumes.map((x) => x.name).join(', ') || 'none'})`);
  if (v.error) throw new ContentError(`${name}: ${v.error}`);
  return openFileSystem(await v.open(), name);
}

function describeFs(v: Volume): string {
  if (v.error) return `error: ${v.error}`;
  if (v.fs === null) return v.detail === 'gpt' || v.detail === 'dos' ? `(${v.detail} partition table)` : v.detail === 'extended' ? '(extended partition)' : '-';
  if (v.fs === 'LVM2_member' || READABLE_FS.has(v.fs)) return v.fs;
  return `${v.fs} (unsupported filesystem)`;
}

export async function runVolumes(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--json', '--help', '-h'] });
  if (args.flags.has('--help') || args.flags.has('-h')) { console.log(volumesHelp); return 0; }
  if (args.positionals.length === 0) throw new UsageError('volumes needs at least one IMAGE (see virt-studio image volumes --help)');
  return withImages(args.positionals, async (images) => {
    const { volumes, warnings } = await discoverVolumes(images);
    for (const w of warnings) process.stderr.write(`virt-studio: warning: ${w}\n`);
    if (args.flags.has('--json')) {
      console.log(JSON.stringify(volumes.map((v) => ({ name: v.name, kind: v.kind, offset: v.offset, size: v.size, fs: v.fs, ...(v.error ? { error: v.error } : {}) })), null, 2));
    } else {
      const rows = volumes.map((v) => [v.name, v.kind, v.offset === null ? '-' : String(v.offset), String(v.size), describeFs(v)]);
      const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['NAME', 'KIND', 'OFFSET', 'SIZE'][i].length));
      const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3].padStart(widths[3])}  ${r[4]}`;
      console.log(line(['NAME', 'KIND', 'OFFSET', 'SIZE', 'FS']));
      for (const r of rows) console.log(line(r));
    }
    return 0;
  });
}

interface LsRow { path: string; entry: ListedEntry }

function modeString(e: ListedEntry): string {
  const t = { file: '-', dir: 'd', symlink: 'l', other: '?' }[e.type];
  const bits = 'rwxrwxrwx';
  let s = t;
  for (let i = 0; i < 9; i++) s += e.mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}

export async function runLs(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['-l', '-R', '--json', '--help', '-h', '-lR', '-Rl'] });
  if (args.flags.has('--help') || args.flags.has('-h')) { console.log(lsHelp); return 0; }
  const long = args.flags.has('-l') || args.flags.has('-lR') || args.flags.has('-Rl');
  const recursive = args.flags.has('-R') || args.flags.has('-lR') || args.flags.has('-Rl');
  if (args.positionals.length < 2) throw new UsageError('ls needs IMAGE... VOLUME:/PATH (see virt-studio image ls --help)');
  const { volume, path } = splitTarget(args.positionals[args.positionals.length - 1]);
  return withImages(args.positionals.slice(0, -1), async (images) => {
    const fs = await openVolume(images, volume);
    const rows: LsRow[] = [];
    const st = await fs.lstat(path);
    const norm = path.length > 1 ? path.replace(/\/+$/, '') : '/';
    if (st.type !== 'dir' && !(st.type === 'symlink' && (await fs.stat(path).catch(() => st)).type === 'dir')) {
      rows.push({ path: norm, entry: { name: norm.slice(norm.lastIndexOf('/') + 1), ...st } });
    } else if (recursive) {
      for await (const r of fs.walk(norm)) rows.push(r);
    } else {
      for (const e of await fs.readdir(norm)) rows.push({ path: `${norm === '/' ? '' : norm}/${e.name}`, entry: e });
    }
    if (args.flags.has('--json')) {
      process.stdout.write(`${JSON.stringify(rows.map(({ path: p, entry: e }) => ({
        path: p, type: e.type, size: e.size, mode: e.mode, mtime: e.mtime, target: e.target ?? null,
      })), null, 2)}\n`);
      return 0;
    }
    const out: string[] = [];
    for (const { path: p, entry: e } of rows) {
      const name = recursive ? p : e.name;
      if (!long) { out.push(name); continue; }
      const when = new Date(e.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ');
      out.push(`${modeString(e)} ${String(e.nlink).padStart(3)} ${String(e.uid).padStart(5)} ${String(e.gid).padStart(5)} ${String(e.size).padStart(12)} ${when} ${name}${e.target !== undefined ? ` -> ${e.target}` : ''}`);
    }
    if (out.length) process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  });
}

export async function runCat(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--help', '-h'] });
  if (args.flags.has('--help') || args.flags.has('-h')) { console.log(catHelp); return 0; }
  if (args.positionals.length < 2) throw new UsageError('cat needs IMAGE... VOLUME:/PATH (see virt-studio image cat --help)');
  const { volume, path } = splitTarget(args.positionals[args.positionals.length - 1]);
  return withImages(args.positionals.slice(0, -1), async (images) => {
    const fs = await openVolume(images, volume);
    let closed = false;
    process.stdout.on('error', () => { closed = true; }); // a reader like `head` went away
    for await (const chunk of fs.stream(path)) {
      if (closed) break;
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
    return 0;
  });
}
