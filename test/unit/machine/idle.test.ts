// Idle time: HLT with interrupts on skips virtual time to the next timer event (no instructions
// run while the guest sleeps), and the TSC keeps counting through the skipped time as it does on
// hardware. Linux's clocksource is the TSC: if it stood still over HLT, every sleep would wake
// early, find no time elapsed and re-arm until instructions had made up the difference.
// The guest (nasm, run after SeaBIOS hands over at 0x7C00) arms PIT channel 0 for 10 ms in
// mode 0 and sleeps in HLT until the PIT's OUT reads high, with RDTSC around the sleep.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INSTRUCTIONS_PER_NS, Machine } from '../../../emulator/src/machine/machine';
import { machineConfigFromSpec } from '../../../emulator/src/worker/bootConfig';
import { bootSectorGuest } from './fixtures';

const SLEEP_TICKS = 11932; // 10 ms of the 1.193182 MHz PIT clock
const PROGRAM = `
bits 16
org 0x7c00
    cli
    mov al, 0x30            ; channel 0, lo/hi byte, mode 0 (interrupt on terminal count)
    out 0x43, al
    mov ax, ${SLEEP_TICKS}
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov al, 0xfe            ; only IRQ 0 unmasked
    out 0x21, al
    rdtsc
    mov [0x600], eax
    mov [0x604], edx
sleep:
    sti
    hlt
    cli
    mov al, 0xe2            ; read-back: status of channel 0
    out 0x43, al
    in al, 0x40
    test al, 0x80           ; OUT high: the count has run out
    jz sleep
    rdtsc
    mov [0x608], eax
    mov [0x60c], edx
done:
    hlt
    jmp done
`;

function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vs-idle-'));
  try {
    writeFileSync(join(dir, 'p.asm'), source);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'p.bin'), join(dir, 'p.asm')]);
    return readFileSync(join(dir, 'p.bin'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('machine: idle time (HLT) and the TSC', function () {
  this.timeout(60_000);

  it('skips a 10 ms PIT sleep in HLT without running it, and the TSC counts the skipped time', async () => {
    const guest = bootSectorGuest();
    const { config } = await machineConfigFromSpec({ disks: [guest.raw], memoryMiB: 16, memoryLimitMiB: 64, allowImageWrites: false, stopOnEntry: false });
    const m = await Machine.create({ config });
    try {
      m.setBreakpoints([0x7c00]);
      let stop = m.run(200_000_000);
      while (stop.kind === 'io') { await m.settleIo(); stop = m.run(200_000_000); } // SeaBIOS reads the disk
      assert.equal(stop.kind, 'breakpoint', 'SeaBIOS reaches the boot sector');
      m.setBreakpoints([]);
      m.writeMemory(0x7c00, assemble(PROGRAM), 'physical');
      const before = { instructions: m.cpu.instructions, ns: m.clock.nowNs() };
      stop = m.run(10_000_000);
      assert.equal(stop.kind, 'halted-forever', 'the guest ends in HLT with interrupts off');
      const ran = m.cpu.instructions - before.instructions;
      const elapsedNs = m.clock.nowNs() - before.ns;
      assert.ok(elapsedNs >= 10e6, `virtual time passed the 10 ms sleep (${elapsedNs} ns)`);
      assert.ok(ran < 10_000, `the sleep was skipped, not executed (${ran} instructions)`);
      const mem = m.readMemory(0x600, 16, 'physical').data;
      const dv = new DataView(mem.buffer, mem.byteOffset);
      const tsc = (at: number) => dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
      const ticks = tsc(8) - tsc(0);
      const expected = elapsedNs * DEFAULT_INSTRUCTIONS_PER_NS;
      assert.ok(Math.abs(ticks - expected) < expected * 0.01, `TSC advanced ${ticks} ticks over ${elapsedNs} ns (expected ~${Math.round(expected)})`);
    } finally {
      await m.close();
    }
  });
});
