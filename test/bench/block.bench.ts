// `image convert` throughput against `qemu-img convert -O raw`, measured in the same run on the
// same images: a 256 MiB virtual disk holding real files (binaries, text, zeros) as plain, zlib-
// and zstd-compressed qcow2. Throughput = virtual bytes / wall time. Two figures per image:
// the CLI as a process (Node start-up included, as qemu-img's is), and the same conversion
// in-process (convertToRaw, what the extension host runs for "Save As…", already started).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { convertToRaw } from '../../client/src/cli/imageConvert';
import { report } from '../support/bench';

const REPO = resolve(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const DIR = join(REPO, 'test', '.cache', 'block-bench');
const ROUNDS = Number(process.env.BLOCK_BENCH_ROUNDS ?? 3);

/** A disk-like raw image: ~160 MiB of real files from /usr, then zeros. */
function makeSource(path: string): void {
  const fd = openSync(path, 'w');
  let written = 0;
  const walk = (dir: string): void => {
    let entries: string[];
    try { entries = readdirSync(dir).sort(); } catch { return; }
    for (const e of entries) {
      if (written >= 160 * MiB) return;
      const p = join(dir, e);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size > 0 && st.size < 16 * MiB) {
        const data = readFileSync(p);
        writeSync(fd, data, 0, Math.min(data.length, 160 * MiB - written));
        written += Math.min(data.length, 160 * MiB - written);
      }
    }
  };
  for (const d of ['/usr/lib/x86_64-linux-gnu', '/usr/bin', '/usr/share/doc', '/usr/lib']) walk(d);
  closeSync(fd);
  execFileSync('truncate', ['-s', String(SIZE), path]);
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
  if (!existsSync(src) || statSync(src).size !== SIZE) makeSource(src);
  const images: [string, string[]][] = [['plain', []], ['zlib', ['-c']], ['zstd', ['-c', '-o', 'compression_type=zstd']]];
  const out = join(DIR, 'out.raw');
  for (const [name, opts] of images) {
    const img = join(DIR, `${name}.qcow2`);
    if (!existsSync(img)) execFileSync('qemu-img', ['convert', ...opts, '-O', 'qcow2', src, img]);
    await timeInProcess(img, out); // warm-up: module loading and JIT, not conversion work
    rmSync(out, { force: true });
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
    for (const [label, ms] of [['CLI process', cli], ['in-process', lib]] as const) {
      report({
        name: `image convert qcow2 ${name} (256 MiB virtual), ${label}`, value: mbs(ms), unit: 'MiB/s', anchor, ratio: mbs(ms) / anchor.value,
        note: `ratio = our throughput / qemu-img's (higher is better); medians of ${ROUNDS} runs: ours ${median(ms).toFixed(0)} ms, qemu-img ${median(theirs).toFixed(0)} ms`,
      });
    }
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
