// A bare CPU running a nasm snippet, for unit tests of the CPU's interfaces (cpu.test.ts) and of
// the translated-block cache (blockCache.test.ts).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoBus } from '../../../emulator/src/bus/ioBus';
import { Cpu } from '../../../emulator/src/cpu/cpu';
import { PhysicalMemory } from '../../../emulator/src/memory/physicalMemory';
import { CACHE } from './qemuHarness';

export function nasm(src: string): Uint8Array {
  mkdirSync(CACHE, { recursive: true });
  const key = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const bin = join(CACHE, `snippet-${key}.bin`);
  if (!existsSync(bin)) {
    const asm = join(CACHE, `snippet-${key}.asm`);
    writeFileSync(asm, src);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', bin, asm], { encoding: 'utf8' });
    if (r.error) throw new Error(`nasm is required: ${r.error.message}`);
    assert.equal(r.status, 0, r.stderr);
  }
  return new Uint8Array(readFileSync(bin));
}

/** A CPU with 4 MiB RAM, code loaded at `at`, CS:EIP pointing at it (real mode, or flat 32-bit). */
export function machine(code: string, opts: { flat32?: boolean; at?: number } = {}) {
  const at = opts.at ?? 0x1000;
  const mem = new PhysicalMemory(4 << 20);
  const io = new IoBus();
  const cpu = new Cpu({ memory: mem, io });
  mem.load(at, nasm(`${opts.flat32 ? 'bits 32' : 'bits 16'}\norg 0x${at.toString(16)}\n${code}\n`));
  if (opts.flat32) {
    cpu.cr0 |= 1;
    for (let s = 0; s < 6; s++) cpu.setSegCache(s, s === 1 ? 8 : 16, 0, 0xffffffff, s === 1 ? 0xc09b : 0xc093);
    cpu.modeChanged();
    cpu.eip = at;
    cpu.regs[4] = 0x80000;
  } else {
    cpu.setSegReal(1, 0);
    cpu.modeChanged();
    cpu.eip = at;
    cpu.regs[4] = 0x8000;
  }
  return { cpu, mem, io };
}
