// `image convert` throughput against `qemu-img convert -O raw`, measured in the same run on the
// same images. The virtual disk (512 MiB) looks like a used disk: ~200 MiB of real file content
// (binaries, libraries, text) in pieces of 64 KiB..4 MiB, separated by never-written gaps, plus
// explicit zero clusters (`qemu-io write -z`). Variants: plain, zlib- and zstd-compressed qcow2,
// and a two-image backing chain (an overlay with scattered writes over the plain image).
// Throughput = virtual bytes / wall time. Two figures per image: the CLI as a process (Node
// start-up included, as qemu-img's is), and the same conversion in-process (convertToRaw, what
// the extension host runs for "Save As…", already started).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { convertToRaw } from '../../client/src/cli/imageConvert';
import { report } from '../support/bench';
import { rng } from '../support/random';

const REPO = resolve(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const MiB = 1024 * 1024;
const SIZE = 512 * MiB;
const DATA = 200 * MiB;
// The layout version is in the directory name: changing how images are made starts a new cache.
const DIR = join(REPO, 'test', '.cache', 'block-bench-v2');
const ROUNDS = Number(process.env.BLOCK_BENCH_ROUNDS ?? 3);

/** Real file content from /usr, DATA bytes of it, in a stable order. */
function* fileContent(): Generator<Buffer> {
  let given = 0;
  const walk = function* (dir: string): Generator<Buffer> {
    let entries: string[];
    try { entries = readdirSync(dir).sort(); } catch { return; }
    for (const e of entries) {
      if (given >= DATA) return;
      const p = join(dir, e);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) yield* walk(p);
      else if (st.isFile() && st.size > 0 && st.size < 16 * MiB) {
        const data = readFileSync(p).subarray(0, DATA - given);
        given += data.length;
        yield data;
      }
    }
  };
  for (const d of ['/usr/lib/x86_64-linux-gnu', '/usr/bin', '/usr/share/doc', '/usr/lib']) yield* walk(d);
}

/** A disk-like raw image: pieces of file content at 4 KiB-aligned places, holes between. */
function makeSource(path: string): void {
  const rand = rng(5);
  const fd = openSync(`${path}.tmp`, 'w');
  const pending: Buffer[] = [];
  let buffered = 0, pos = 0;
  const content = fileContent();
  for (;;) {
    const piece = (1 + Math.floor(rand() * 64)) * 64 * 1024; // 64 KiB .. 4 MiB
    while (buffered < piece) {
      const next = content.next();
      if (next.done) break;
      pending.push(next.value); buffered += next.value.length;
    }
    if (buffered === 0) break;
    const all = Buffer.concat(pending);
    const n = Math.min(piece, all.length);
    if (pos + n > SIZE) break;
    writeSync(fd, all, 0, n, pos);
    pending.length = 0; pending.push(all.subarray(n)); buffered = all.length - n;
    pos += n + Math.floor(rand() * 256) * 4096; // gap: 0 .. 1 MiB never written
  }
  closeSync(fd);
  execFileSync('truncate', ['-s', String(SIZE), `${path}.tmp`]);
  renameSync(`${path}.tmp`, path);
}

/** qemu-io commands run on an image, in one process. */
function qemuIo(image: string, commands: string[]): void {
  execFileSync('qemu-io', ['-f', 'qcow2', ...commands.flatMap((c) => ['-c', c]), image], { stdio: 'ignore' });
}

/** Explicit zero clusters over some of the data (what a guest's discard/write-zeroes leaves). */
function zeroRanges(seed: number): string[] {
  const rand = rng(seed);
  return Array.from({ length: 24 }, () => `write -z ${Math.floor(rand() * (SIZE / MiB - 2)) * MiB} ${(1 + Math.floor(rand() * 2)) * MiB}`);
}

function makeImage(name: string, src: string): string {
  const img = join(DIR, `${name}.qcow2`);
  if (existsSync(img)) return img;
  const tmp = `${img}.tmp`;
  rmSync(tmp, { force: true });
  if (name === 'chain') {
    const base = makeImage('plain', src);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', tmp]);
    const rand = rng(7);
    const writes = Array.from({ length: 48 }, (_, k) => `write -P ${k + 1} ${Math.floor(rand() * (SIZE / 65536 - 16)) * 65536} ${(1 + Math.floor(rand() * 16)) * 65536}`);
    qemuIo(tmp, [...writes, ...zeroRanges(8)]);
  } else {
    const opts = name === 'zlib' ? ['-c'] : name === 'zstd' ? ['-c', '-o', 'compression_type=zstd'] : [];
    execFileSync('qemu-img', ['convert', ...opts, '-O', 'qcow2', src, tmp]);
    qemuIo(tmp, zeroRanges(6));
  }
  renameSync(tmp, img);
  return img;
}

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

function timeCmd(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

async function timeInProcess(img: string, out: string): Promise<number> {
  const t0 = performance.now();
  await convertToRaw(img, out);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  mkdirSync(DIR, { recursive: true });
  const src = join(DIR, 'source.raw');
  if (!existsSync(src)) makeSource(src);
  const out = join(DIR, 'out.raw');
  for (const name of ['plain', 'zlib', 'zstd', 'chain']) {
    const img = makeImage(name, src);
    // Warm-up (module loading and JIT), which also checks we measure a correct conversion.
    await timeInProcess(img, out);
    execFileSync('qemu-img', ['convert', '-O', 'raw', img, `${out}.ref`]);
    execFileSync('cmp', ['-s', out, `${out}.ref`]); // throws unless byte-identical
    rmSync(out, { force: true }); rmSync(`${out}.ref`, { force: true });
    const cli: number[] = [], lib: number[] = [], theirs: number[] = [];
    // Rotate the order each round: page-cache writeback of one run slows whichever runs next.
    const steps: (() => Promise<void>)[] = [
      async () => { theirs.push(timeCmd('qemu-img', ['convert', '-O', 'raw', img, out])); },
      async () => { cli.push(timeCmd(process.execPath, [CLI, 'image', 'convert', img, out])); },
      async () => { lib.push(await timeInProcess(img, out)); },
    ];
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < steps.length; k++) {
        await steps[(r + k) % steps.length]();
        rmSync(out, { force: true });
      }
    }
    const mbs = (ms: number[]) => SIZE / MiB / (median(ms) / 1000);
    const anchor = { name: 'qemu-img convert -O raw', value: mbs(theirs) };
    const label = name === 'chain' ? 'qcow2 overlay on plain qcow2' : `qcow2 ${name}`;
    for (const [how, ms] of [['CLI process', cli], ['in-process', lib]] as const) {
      report({
        name: `image convert ${label} (512 MiB virtual), ${how}`, value: mbs(ms), unit: 'MiB/s', anchor, ratio: mbs(ms) / anchor.value,
        note: `ratio = our throughput / qemu-img's (higher is better); medians of ${ROUNDS} runs: ours ${median(ms).toFixed(0)} ms, qemu-img ${median(theirs).toFixed(0)} ms`,
      });
    }
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
