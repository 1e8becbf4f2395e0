// Runs in its own process (spawned by fuzz.test.ts with a time limit and a heap cap): applies
// seeded mutations to one image, opens and reads each mutant, and prints a JSON summary.
// Anything thrown that is not an ImageError is a parser bug and is reported as such.
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ImageError } from '../../../emulator/src/block/blockDevice';
import { open } from 'node:fs/promises';
import { convertDevice } from '../../../emulator/src/block/convert';
import { openImage } from '../../../emulator/src/block/open';

const [image, workDir, casesArg, seedArg] = process.argv.slice(2);
const cases = Number(casesArg), seed = Number(seedArg);
const MiB = 1024 * 1024;

let x = seed >>> 0 || 1;
const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
const pick = <T>(a: T[]): T => a[rnd() % a.length];
const INTERESTING = [0, 1, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffe00, 0x200, 0x10000, 0x100000];

function mutate(orig: Buffer): { data: Buffer; what: string } {
  const data = Buffer.from(orig);
  // Headers and first tables live at the start; footers (VHD, streamOptimized VMDK) at the end.
  const hot = Math.min(data.length, 512 * 1024);
  const tail = Math.min(data.length, 2048);
  const where = () => {
    const r = rnd() % 10;
    return r < 6 ? rnd() % hot : r < 8 ? data.length - 1 - (rnd() % tail) : rnd() % data.length;
  };
  const n = 1 + rnd() % 4;
  const what: string[] = [];
  for (let i = 0; i < n; i++) {
    const kind = rnd() % 4;
    const at = where();
    if (kind === 0) { data[at] ^= 1 << (rnd() % 8); what.push(`flip@${at}`); }
    else if (kind === 1) { data[at] = rnd() & 0xff; what.push(`byte@${at}`); }
    else {
      const a = at & ~3;
      if (a + 4 <= data.length) {
        const v = pick(INTERESTING);
        if (rnd() & 1) data.writeUInt32BE(v >>> 0, a); else data.writeUInt32LE(v >>> 0, a);
        what.push(`u32@${a}=${v}`);
      }
    }
  }
  return { data, what: what.join(',') };
}

async function exercise(path: string, convert: boolean): Promise<void> {
  const img = await openImage(path);
  try {
    const dev = img.device;
    // One large read (the bulk paths: batched decompression, the zstd helper) and small ones.
    await dev.read(0, Math.min(dev.size, 4 * MiB));
    const span = Math.min(dev.size, 2 * MiB);
    for (let at = 0; at < span; at += 256 * 1024) await dev.read(at, Math.min(256 * 1024, span - at));
    for (let i = 0; i < 8 && dev.size > 4096; i++) {
      const at = Math.floor((rnd() / 2 ** 32) * (dev.size - 4096));
      await dev.read(at, 4096);
    }
    // Every fifth mutant is also converted whole (the worker-thread and helper-tool paths).
    if (convert && dev.size <= 256 * MiB) {
      const out = await open(join(workDir, 'mutant-out.raw'), 'w');
      try { await convertDevice(dev, out); } finally { await out.close(); }
    }
    for (const s of img.snapshots.slice(0, 4)) {
      const snap = await img.openSnapshot(s.id);
      await snap.read(0, Math.min(snap.size, MiB));
    }
  } finally {
    await img.close();
  }
}

(async () => {
  const orig = readFileSync(image);
  const out = { image: basename(image), cases: 0, opened: 0, imageErrors: 0, bugs: [] as string[], maxMs: 0 };
  const target = join(workDir, `mutant-${basename(image)}`);
  for (let c = 0; c < cases; c++) {
    let what: string;
    if (c % 10 === 9) {
      // Truncated copies: every structure may end early.
      const len = rnd() % orig.length;
      copyFileSync(image, target);
      truncateSync(target, len);
      what = `truncate@${len}`;
    } else {
      const m = mutate(orig);
      writeFileSync(target, m.data);
      what = m.what;
    }
    const t0 = performance.now();
    try {
      await exercise(target, c % 5 === 4);
      out.opened++;
    } catch (err) {
      if (err instanceof ImageError) out.imageErrors++;
      else out.bugs.push(`${what}: ${(err as Error)?.stack ?? String(err)}`);
    }
    out.maxMs = Math.max(out.maxMs, performance.now() - t0);
    out.cases++;
  }
  rmSync(target, { force: true });
  rmSync(join(workDir, 'mutant-out.raw'), { force: true });
  process.stdout.write(JSON.stringify(out));
})();
