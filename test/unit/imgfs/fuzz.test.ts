// Seeded, bounded fuzzing of every parser: mutate superblocks, tables, directories and LVM
// metadata of real images, then walk and read everything. Only ImageError/FsError may escape;
// every case must finish quickly and memory must stay bounded.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BlockDevice, ImageError } from '../../../emulator/src/block/blockDevice';
import { FsError } from '../../../emulator/src/fs/fileSystem';
import { openFileSystem } from '../../../emulator/src/fs/openFileSystem';
import { discoverVolumes } from '../../../emulator/src/volumes/discover';
import { fixture } from './fixtures';

/** An in-memory image with a few patched bytes (no copy of the whole image per case). */
class MemoryDevice implements BlockDevice {
  constructor(private readonly data: Uint8Array, private readonly patches = new Map<number, number>()) {}
  get size(): number { return this.data.length; }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.data.length) throw new ImageError(`read of ${length} at ${offset} outside ${this.data.length}`);
    const out = this.data.slice(offset, offset + length);
    for (const [at, v] of this.patches) if (at >= offset && at < offset + length) out[at - offset] = v;
    return out;
  }
  async close(): Promise<void> {}
}

/** xorshift32: reproducible cases from a seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x100000000; };
}

const CASE_MS = 5000;
const READ_BUDGET = 8 * 1024 * 1024;

/** Discovers volumes and walks/reads every readable filesystem, with a cap on bytes read. */
/** Number of problems reported (errors, warnings, volumes that changed from the intact image's). */
async function exercise(dev: BlockDevice, baseline?: string): Promise<number> {
  const { volumes, warnings } = await discoverVolumes([{ device: dev, path: 'fuzz.img' }]);
  const signature = volumes.map((v) => `${v.name}:${v.fs}:${v.offset}:${v.size}`).join(',');
  let rejected = warnings.length + volumes.filter((v) => v.error).length + (baseline !== undefined && signature !== baseline ? 1 : 0);
  let budget = READ_BUDGET;
  for (const v of volumes) {
    if (v.error || !v.fs || !['ext2', 'ext3', 'ext4', 'vfat', 'iso9660'].includes(v.fs)) continue;
    try {
      const fs = await openFileSystem(await v.open(), v.name);
      let entries = 0;
      for await (const { path, entry } of fs.walk('/')) {
        if (++entries > 20000) break;
        try {
          if (entry.type === 'file' && budget > 0) {
            const n = Math.min(entry.size, 256 * 1024, budget);
            budget -= n;
            await fs.read(path, 0, n);
          }
          if (entry.type === 'symlink') await fs.stat(path);
        } catch (err) {
          if (!(err instanceof FsError || err instanceof ImageError)) throw err;
          rejected++;
        }
      }
    } catch (err) {
      if (!(err instanceof FsError || err instanceof ImageError)) throw err;
      rejected++;
    }
  }
  return rejected;
}

async function signatureOf(data: Uint8Array): Promise<string> {
  const { volumes } = await discoverVolumes([{ device: new MemoryDevice(data), path: 'fuzz.img' }]);
  return volumes.map((v) => `${v.name}:${v.fs}:${v.offset}:${v.size}`).join(',');
}

async function fuzz(base: Uint8Array, regions: [number, number][], cases: number, seed: number): Promise<{ clean: number; errors: number }> {
  const next = rng(seed);
  const baseline = await signatureOf(base);
  // The intact images have a few expected complaints (dangling symlinks, a PV of a two-PV VG).
  const intact = await exercise(new MemoryDevice(base), baseline);
  let clean = 0, errors = 0;
  for (let c = 0; c < cases; c++) {
    const patches = new Map<number, number>();
    const flips = 1 + Math.floor(next() * 16);
    for (let i = 0; i < flips; i++) {
      const [start, end] = regions[Math.floor(next() * regions.length)];
      const at = start + Math.floor(next() * (end - start));
      const r = next();
      patches.set(at, r < 0.3 ? 0 : r < 0.5 ? 0xff : Math.floor(next() * 256));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`case ${c} (seed ${seed}) took longer than ${CASE_MS} ms`)), CASE_MS); });
    try {
      if (await Promise.race([exercise(new MemoryDevice(base, patches), baseline), timeout]) !== intact) errors++; else clean++;
    } catch (err) {
      if (err instanceof ImageError || err instanceof FsError) errors++;
      else throw new Error(`case ${c} (seed ${seed}): unclean ${(err as Error).name}: ${(err as Error).message}\n${(err as Error).stack}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { clean, errors };
}

describe('imgfs: fuzzing (seeded, bounded)', function () {
  this.timeout(240_000);
  const cases = Number(process.env.IMGFS_FUZZ_CASES ?? 40);
  const rssBefore = process.memoryUsage().rss;
  let parts: string, fat: string, iso: string, lvm: string, ext: string;
  before(() => { parts = fixture('parts'); fat = fixture('fat'); iso = fixture('iso'); lvm = fixture('lvm'); ext = fixture('ext'); });

  const run = async (file: () => string, regions: [number, number][], seed: number, limit?: number, count = cases) => {
    // A plain Uint8Array: Buffer#slice returns views, and reads must hand out copies.
    let data = new Uint8Array(readFileSync(file()));
    if (limit) data = data.slice(0, limit);
    const r = await fuzz(data, regions, count, seed);
    assert.equal(r.clean + r.errors, count);
    // The mutations must reach the parsers: some cases have to be rejected as corrupt.
    assert.ok(r.errors > 0, `no case of ${count} was reported as corrupt`);
  };

  // Small images keep each case cheap: the ext4/ext2 filesystems made for the LVM fixture.
  it('ext4: superblock, group descriptors, inode tables, directories', () => run(() => join(lvm, 'lin.fs'), [[1024, 1200], [4096, 8192], [0, 2 * 1024 * 1024]], 1));
  it('ext2 (1 KiB blocks, indirect maps)', () => run(() => join(lvm, 'r1.fs'), [[1024, 1200], [2048, 3072], [0, 1024 * 1024]], 2));
  it('ext4 with inline data and htree (large image, fewer cases)', () => run(() => join(ext, 'ext4.img'), [[1024, 1200], [4096, 8192], [0, 2 * 1024 * 1024]], 9, undefined, 10));
  it('FAT12 and FAT32: BPB, FAT, directories', async () => {
    await run(() => join(fat, 'fat12.img'), [[0, 90], [512, 8192], [8192, 65536]], 3);
    await run(() => join(lvm, 'mir.fs'), [[0, 90], [512, 8192], [8192, 65536]], 10);
    await run(() => join(fat, 'fat32.img'), [[0, 90], [16384, 200000], [300000, 600000]], 4, undefined, 15);
  });
  it('ISO 9660: descriptors, directory records, Rock Ridge', () => run(() => join(iso, 'rr-geniso.iso'), [[32768, 40960], [40960, 200000]], 5));
  it('MBR with logical partitions and GPT (headers, entries)', async () => {
    await run(() => join(parts, 'mbr.img'), [[440, 512], [21 * 1048576 + 440, 21 * 1048576 + 512], [1048576, 1048576 + 2048]], 6, undefined, 30);
    await run(() => join(parts, 'gpt4k.img'), [[4096, 4096 + 92], [8192, 8192 + 512], [64 * 1024 * 1024 - 4096, 64 * 1024 * 1024 - 4000]], 7);
  });
  it('LVM: label, pv_header, mda header, metadata text; thin and snapshot metadata', async () => {
    await run(() => join(lvm, 'pv1.img'), [[512, 640], [4096, 4160], [38400, 44000]], 8);
  });

  after(() => {
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 1024 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(0)} MiB`);
  });
});
