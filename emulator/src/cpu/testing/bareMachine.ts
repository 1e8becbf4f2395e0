// The smallest PC our CPU tests need: RAM, a 64 KiB (or larger) firmware image mapped like a BIOS
// (below 1 MiB and at the top of 4 GiB), the debug console port 0xE9, QEMU's isa-debug-exit at
// 0xF4 and the "fast A20" port 0x92. The QEMU differential tests run the same image under
// `qemu-system-i386 -bios` with the same three ports, so outputs are directly comparable.

import { IoBus } from '../../bus/ioBus';
import { PhysicalMemory } from '../../memory/physicalMemory';
import { Cpu, type StopReason } from '../cpu';

export interface BareRunResult {
  output: string;
  /** QEMU-style exit status ((value << 1) | 1), or null if the program never wrote to 0xF4. */
  exitCode: number | null;
  stop: StopReason | 'exit';
  instructions: number;
  shutdownReason: string;
}

export class BareMachine {
  readonly mem: PhysicalMemory;
  readonly io = new IoBus();
  readonly cpu: Cpu;
  private out: number[] = [];
  private exitCode: number | null = null;
  private port92 = 0;

  constructor(firmware: Uint8Array, ramBytes = 32 << 20) {
    if (firmware.length % 65536 !== 0 || firmware.length === 0 || firmware.length > 1 << 20) {
      throw new RangeError(`firmware must be a multiple of 64 KiB up to 1 MiB, got ${firmware.length} bytes`);
    }
    this.mem = new PhysicalMemory(ramBytes);
    // The last 128 KiB (or less) below 1 MiB alias the end of the image, the whole image sits below 4 GiB.
    const low = firmware.subarray(Math.max(0, firmware.length - 0x20000));
    this.mem.addRom(0x100000 - low.length, low);
    this.mem.addRom(0x100000000 - firmware.length, firmware);
    this.cpu = new Cpu({ memory: this.mem, io: this.io });
    this.io.register(0xe9, 1, {
      write8: (_p, v) => { this.out.push(v); },
      read8: () => 0xe9,
    });
    this.io.register(0xf4, 4, {
      write8: (_p, v) => { this.exitCode = (v << 1) | 1; this.cpu.requestStop('stopped'); },
      write16: (_p, v) => { this.exitCode = ((v & 0xff) << 1) | 1; this.cpu.requestStop('stopped'); },
      write32: (_p, v) => { this.exitCode = ((v & 0xff) << 1) | 1; this.cpu.requestStop('stopped'); },
    });
    this.io.register(0x92, 1, {
      read8: () => this.port92,
      write8: (_p, v) => { this.port92 = v & 0x02; this.mem.setA20((v & 0x02) !== 0); },
    });
    // Like QEMU: A20 is open after reset although port 0x92 reads back 0 until written.
    this.mem.setA20(true);
    this.port92 = 0;
  }

  /** Run until the program exits, halts with interrupts off, triple-faults or `budget` runs out. */
  run(budget = 500_000_000): BareRunResult {
    let stop: StopReason | 'exit' = 'budget';
    const start = this.cpu.instructions;
    while (this.cpu.instructions - start < budget) {
      stop = this.cpu.run(Math.min(1_000_000, budget - (this.cpu.instructions - start)));
      if (this.exitCode !== null) { stop = 'exit'; break; }
      if (stop !== 'budget') break;
    }
    return {
      output: Buffer.from(this.out).toString('latin1'),
      exitCode: this.exitCode,
      stop,
      instructions: this.cpu.instructions - start,
      shutdownReason: this.cpu.shutdownReason,
    };
  }
}
