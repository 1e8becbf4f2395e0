// CPU benchmark: MIPS on three fixed guest workloads (integer loop, memory copy with paging and
// TLB churn, LZSS decompression), each also run under QEMU TCG as the anchor (wall time of the
// whole QEMU process, startup included) and under our interpreter alone (translated blocks off),
// so the block cache's gain is measured in the same run. Outputs are checked identical first.
// MIPS are reported against both wall-clock and process CPU time: on a shared machine the CPU
// time is the steadier figure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { report } from '../support/bench';
import type { BareMachine } from '../../emulator/src/cpu/testing/bareMachine';
import { assemble, CACHE, runOurs, runQemu } from '../unit/cpu/qemuHarness';

/** Deterministic, compressible "text" and a greedy LZSS encoder matching bench-lz.asm. */
function lzInput(): { blob: Uint8Array; expectedSum: number } {
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'virt', 'studio', 'emulator', 'x86', 'page', 'table'];
  let seed = 12345;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
  const text: number[] = [];
  while (text.length < 256 * 1024) {
    const w = words[rnd() % words.length];
    for (const ch of w) text.push(ch.charCodeAt(0));
    text.push(rnd() % 7 === 0 ? 10 : 32);
  }
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    const flagPos = out.length;
    out.push(0);
    let flags = 0;
    for (let bit = 0; bit < 8 && i < text.length; bit++) {
      let bestLen = 0, bestOff = 0;
      for (let off = 1; off <= 4096 && off <= i; off++) {
        let l = 0;
        while (l < 18 && i + l < text.length && text[i + l] === text[i + l - off]) l++;
        if (l > bestLen) { bestLen = l; bestOff = off; if (l === 18) break; }
      }
      if (bestLen >= 3) {
        const w = ((bestLen - 3) << 12) | (bestOff - 1);
        out.push(w & 0xff, w >> 8);
        i += bestLen;
      } else {
        flags |= 1 << bit;
        out.push(text[i++]);
      }
    }
    out[flagPos] = flags;
  }
  const blob = new Uint8Array(4 + out.length);
  new DataView(blob.buffer).setUint32(0, out.length, true);
  blob.set(out, 4);
  let sum = 0;
  for (const b of text) sum = (((sum << 3) | (sum >>> 29)) + b) >>> 0;
  return { blob, expectedSum: sum };
}

/** Warm-up run (JIT), then a measured run; `hot` is the CPU's translation threshold (Infinity: interpreter only). */
function timeOurs(image: string, preload: { addr: number; data: Uint8Array } | undefined, hot: number) {
  const configure = (m: BareMachine): void => { m.cpu.blocks.hotThreshold = hot; };
  runOurs(image, 2_000_000_000, preload, configure);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = runOurs(image, 2_000_000_000, preload, configure);
  const wallMs = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  const cpuMs = (cu.user + cu.system) / 1000;
  return { r, wallMs, mipsCpu: r.instructions / cpuMs / 1000, mipsWall: r.instructions / wallMs / 1000 };
}

function measure(name: string, file: string, preload?: { addr: number; data: Uint8Array; path: string }, expect?: string): void {
  const image = assemble(file);
  const qArgs = preload ? ['-device', `loader,file=${preload.path},addr=0x${preload.addr.toString(16)},force-raw=on`] : [];
  const q0 = performance.now();
  const q = runQemu(image, 300_000, qArgs);
  const qemuMs = performance.now() - q0;
  const interp = timeOurs(image, preload, Infinity);
  const ours = timeOurs(image, preload, 16);
  for (const { r } of [interp, ours]) {
    if (r.output !== q.output) throw new Error(`${name}: output differs from QEMU:\nqemu: ${q.output}\nours: ${r.output}`);
    if (expect && !r.output.startsWith(expect)) throw new Error(`${name}: expected ${expect}, got ${r.output}`);
  }
  if (ours.r.instructions !== interp.r.instructions) throw new Error(`${name}: instruction count differs with translation`);
  report({
    name: `cpu ${name}: MIPS (process CPU time)`, value: ours.mipsCpu, unit: 'MIPS',
    anchor: { name: 'our interpreter alone (no translated blocks), same run', value: interp.mipsCpu }, ratio: ours.mipsCpu / interp.mipsCpu,
    note: `${(ours.r.instructions / 1e6).toFixed(1)}M instructions, ${ours.mipsWall.toFixed(1)} MIPS wall-clock; ratio = speed-up of the block cache`,
  });
  report({
    name: `cpu ${name}: run time`, value: ours.wallMs, unit: 'ms',
    anchor: { name: 'QEMU TCG (whole process)', value: qemuMs }, ratio: ours.wallMs / qemuMs,
    note: 'ratio = ours / QEMU (lower is better)',
  });
}

/**
 * Calibration: ns per iteration of a fixed plain-JS loop (typed-array load/store, add, xor),
 * so figures from a loaded shared machine can be compared with a quiet one.
 */
function calibrate(): void {
  const a = new Int32Array(8);
  let x = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < 2e8; i++) { a[i & 7] += i; x ^= a[(i + 3) & 7]; }
  const cu = process.cpuUsage(c0);
  const ns = ((cu.user + cu.system) * 1000) / 2e8;
  report({ name: 'cpu bench calibration: plain JS loop', value: ns, unit: 'ns/iteration (CPU time)', note: `checksum ${x}; about 1 ns on an idle modern core` });
}

calibrate();
const lz = lzInput();
const blobPath = join(CACHE, 'bench-lz-input.bin');
writeFileSync(blobPath, lz.blob);
measure('integer loop', 'bench-int');
measure('memcpy + paging', 'bench-mem');
measure('LZSS decompress', 'bench-lz', { addr: 0x200000, data: lz.blob, path: blobPath }, lz.expectedSum.toString(16).padStart(8, '0'));
