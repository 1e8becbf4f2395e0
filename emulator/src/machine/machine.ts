// The PC: the CPU and its physical memory joined to the platform (pcPlatform.ts builds the
// devices from a MachineConfig). This file owns the memory map (RAM, the BIOS ROM below 1 MiB
// and at the top of 4 GiB with PAM shadowing, the VGA window), the wires from the platform to
// the CPU (INTR, A20, reset), and the run loop: the CPU runs in batches no longer than the time
// to the next timer event, the virtual clock advances by the instructions executed (so runs
// are deterministic), a halted CPU with interrupts on skips to the next event, and debugger
// stop reasons come back as MachineStop values. Nothing here knows about threads or messages.
import { IF } from '../cpu/constants';
import { Cpu, type CpuState, type WatchHit, type Watchpoint } from '../cpu/cpu';
import type { ResetSource } from '../devices/signals';
import { VGA_WINDOW_BASE, VGA_WINDOW_SIZE } from '../devices/vga';
import { PageKind, PhysicalMemory } from '../memory/physicalMemory';
import { BiosShadow, type BiosShadowState } from './biosShadow';
import { VirtualClock } from './clock';
import { enterFlatProtectedMode } from './cpuState';
import type { MachineConfig } from './domainConfig';
import { walkPageTables, type PageWalk } from './pageWalk';
import { createPcPlatform, type PcPlatform, type PlatformOptions, type PlatformState } from './pcPlatform';

/** Longest CPU batch between clock updates: bounds how late a timer newly armed mid-batch fires. */
const MAX_BATCH = 20_000;

/**
 * Guest instructions per virtual nanosecond: a 50 MHz (50 MIPS) P6. Virtual time, the PIT and the
 * TSC all derive from the instruction count, so this only sets how many instructions a guest's
 * busy-wait of a given length costs; close to what the interpreter runs, guest time stays near
 * wall time (calibration loops, delays and timeouts behave as on hardware).
 */
export const DEFAULT_INSTRUCTIONS_PER_NS = 0.05;

/** Guest wall time at power-on unless given: fixed, so two runs of one guest are identical. */
export const DEFAULT_START_TIME_MS = Date.UTC(2026, 0, 1);

export interface MachineOptions {
  config: MachineConfig;
  startTimeMs?: number;
  instructionsPerNs?: number;
  openDisk?: PlatformOptions['openDisk'];
  vgaBiosPath?: string;
}

export type MachineStop =
  /** The instruction budget or the wall-clock deadline ran out; the guest can go on. */
  | { kind: 'budget' }
  /** A disk read is in flight: await settleIo(), then run again. */
  | { kind: 'io' }
  | { kind: 'breakpoint'; address: number }
  | { kind: 'watchpoint'; hit: WatchHit }
  /** A guest exception whose vector is in `exceptionStops`; stopped at its handler. */
  | { kind: 'exception'; vector: number; errorCode: number; faultEip: number }
  | { kind: 'triple-fault'; reason: string }
  /** HLT with interrupts off, or with nothing left that could wake the CPU. */
  | { kind: 'halted-forever' }
  /** The guest wrote to isa-debug-exit. */
  | { kind: 'debug-exit'; code: number }
  /** The guest pulled the reset line but there is no firmware to restart (direct kernel boot). */
  | { kind: 'reset-without-firmware'; source: ResetSource };

export interface MachineSnapshot {
  cpu: CpuState;
  a20: boolean;
  shadow?: BiosShadowState;
  platform: PlatformState;
  ram: Uint8Array;
}

export class Machine {
  readonly cpu: Cpu;
  readonly memory: PhysicalMemory;
  readonly clock: VirtualClock;
  /** Vectors (0-31) that stop the run when the guest raises them. */
  readonly exceptionStops = new Set<number>();
  /** Bumped by every write to the VGA window (and register change), for screen refresh throttling. */
  get screenVersion(): number { return this.platform.vga?.version ?? 0; }
  /**
   * Virtual nanoseconds skipped in HLT so far: the run loop throttles only this part to wall
   * time (a busy guest runs as fast as the CPU can; an idle one must not sleep(5) in 0.1 s).
   */
  idleSkippedNs = 0;

  private readonly shadow: BiosShadow | undefined;
  private resetRequest: ResetSource | undefined;
  private exitCode: number | undefined;
  private exceptionHit: { vector: number; errorCode: number; faultEip: number } | undefined;

  private constructor(readonly config: MachineConfig, readonly platform: PcPlatform, memory: PhysicalMemory) {
    this.memory = memory;
    this.clock = platform.clock;
    this.cpu = new Cpu({ memory, io: platform.bus, interrupts: platform.pic });
    const cpu = this.cpu;

    platform.pic.onIntrChange = () => cpu.notifyInterrupt();
    platform.a20.onChange((on) => memory.setA20(on));
    platform.onReset = (source) => { this.resetRequest = source; cpu.requestStop(); };
    platform.debugExit.onExit = (code) => { this.exitCode = code; cpu.requestStop(); };
    this.syncClockOnIo();
    this.hookExceptions();

    const vga = platform.vga;
    if (vga) {
      memory.addMmio(VGA_WINDOW_BASE, VGA_WINDOW_SIZE, {
        read8: (a) => vga.readMem(a),
        write8: (a, v) => vga.writeMem(a, v),
      });
    }
    if (platform.firmware) {
      const fw = platform.firmware;
      memory.addRom(0x1_0000_0000 - fw.length, fw);
      this.shadow = new BiosShadow(memory, fw, () => cpu.flushTlb(true));
      platform.pci.onPamChange = (regions) => this.shadow!.update(regions);
    }
    this.powerOn();
  }

  static async create(opts: MachineOptions): Promise<Machine> {
    const { config } = opts;
    const memory = new PhysicalMemory(config.memoryBytes);
    const guestMemory = {
      size: memory.ramSize,
      read: (address: number, length: number) => {
        if (address < 0 || address + length > memory.ramSize) throw new RangeError(`read 0x${address.toString(16)}+${length} is outside RAM`);
        return memory.u8.slice(address, address + length);
      },
      write: (address: number, data: Uint8Array) => memory.load(address, data),
    };
    const platform = await createPcPlatform({
      config, memory: guestMemory, clock: new VirtualClock({ instructionsPerNs: opts.instructionsPerNs ?? DEFAULT_INSTRUCTIONS_PER_NS }), startTimeMs: opts.startTimeMs ?? DEFAULT_START_TIME_MS,
      openDisk: opts.openDisk, vgaBiosPath: opts.vgaBiosPath,
    });
    return new Machine(config, platform, memory);
  }

  /** Power-on state: firmware boot starts at the reset vector; direct kernel boot at the kernel's 32-bit entry. */
  private powerOn(): void {
    this.cpu.reset();
    // The gate is on at power-on (platform reset), so the first fetch at 0xFFFFFFF0 reaches
    // the ROM at the top of 4 GiB rather than 0xFFEFFFF0.
    this.memory.setA20(this.platform.a20.enabled);
    this.shadow?.reset(this.platform.pci.pamRegions());
    const linux = this.platform.linux;
    if (linux) {
      const e = linux.entry;
      enterFlatProtectedMode(this.cpu, {
        eip: e.eip, eflags: e.eflags, cr0: e.cr0, gdtr: e.gdtr, code: e.codeSegment, data: e.dataSegment,
        regs: { eax: e.eax, ecx: e.ecx, edx: e.edx, ebx: e.ebx, esp: e.esp, ebp: e.ebp, esi: e.esi, edi: e.edi },
      });
    }
  }

  /** Device reads of the clock must see the instructions executed so far: end the batch after every port access. */
  private syncClockOnIo(): void {
    const bus = this.platform.bus;
    const cpu = this.cpu;
    for (const m of ['read8', 'read16', 'read32', 'write8', 'write16', 'write32'] as const) {
      const orig = bus[m].bind(bus) as (port: number, value?: number) => number | void;
      (bus as unknown as Record<string, unknown>)[m] = (port: number, value?: number) => {
        cpu.requestStop();
        return orig(port, value);
      };
    }
  }

  /** Exception stops: note the exception, let the CPU deliver it, stop at the handler. */
  private hookExceptions(): void {
    const cpu = this.cpu;
    const deliver = cpu.deliverException.bind(cpu);
    cpu.deliverException = () => {
      if (this.exceptionStops.size > 0 && this.exceptionStops.has(cpu.exc)) {
        this.exceptionHit = { vector: cpu.exc, errorCode: cpu.excErr, faultEip: cpu.eip >>> 0 };
        cpu.requestStop();
      }
      deliver();
    };
  }

  /** True while a disk read is outstanding. */
  get ioPending(): boolean { return this.platform.pendingIo.busy; }

  /** Waits for outstanding disk reads; their completions land before the next instruction. */
  settleIo(): Promise<void> { return this.platform.pendingIo.settle(); }

  /**
   * Runs up to `maxInstructions` guest instructions, or until `deadline` (performance.now()
   * milliseconds) passes, or until something stops it.
   */
  run(maxInstructions: number, deadline = Infinity): MachineStop {
    const cpu = this.cpu;
    const clock = this.clock;
    let done = 0;
    while (done < maxInstructions) {
      if (this.platform.pendingIo.busy) return { kind: 'io' };
      const n = clock.instructionsUntilNextEvent(Math.min(maxInstructions - done, MAX_BATCH));
      const before = cpu.instructions;
      const reason = cpu.run(n);
      const ran = cpu.instructions - before;
      done += ran;
      clock.advance(ran);
      clock.runDueTimers();

      if (this.resetRequest !== undefined) {
        const source = this.resetRequest;
        this.resetRequest = undefined;
        if (!this.platform.firmware) return { kind: 'reset-without-firmware', source };
        this.reset();
        continue;
      }
      if (this.exitCode !== undefined) {
        const code = this.exitCode;
        this.exitCode = undefined;
        return { kind: 'debug-exit', code };
      }
      if (this.exceptionHit) {
        const hit = this.exceptionHit;
        this.exceptionHit = undefined;
        if (reason !== 'triple-fault') return { kind: 'exception', ...hit };
      }
      switch (reason) {
        case 'budget':
        case 'stopped':
        case 'step':
          break;
        case 'halted':
          if (this.platform.pendingIo.busy) return { kind: 'io' };
          if (!(cpu.flags & IF) && !cpu.nmiPending) return { kind: 'halted-forever' };
          if (!this.skipIdle()) return { kind: 'halted-forever' };
          break;
        case 'breakpoint':
          return { kind: 'breakpoint', address: cpu.pcLinear };
        case 'watchpoint':
          return { kind: 'watchpoint', hit: cpu.lastWatchHit! };
        case 'triple-fault':
          return { kind: 'triple-fault', reason: cpu.shutdownReason || 'triple fault' };
      }
      if (performance.now() >= deadline) break;
    }
    return { kind: 'budget' };
  }

  /**
   * HLT with interrupts on: jump virtual time to the next timer event. The TSC counts virtual
   * time too (instructions plus idle time), as on hardware where it ticks while the CPU sleeps:
   * a guest whose clocksource is the TSC (Linux after calibration) must see idle time pass, or
   * every sleep would wake early, find no time elapsed and re-arm until enough instructions ran.
   */
  private skipIdle(): boolean {
    const before = this.clock.nowNs();
    if (!this.clock.skipToNextEvent()) return false;
    const skipped = this.clock.nowNs() - before;
    this.cpu.tsc += Math.round(skipped * this.clock.rate);
    this.idleSkippedNs += skipped;
    return true;
  }

  /** The reset line: CPU to the reset vector, devices to power-on state, PAM to ROM. */
  reset(): void {
    this.platform.reset();
    this.memory.setA20(false);
    this.powerOn();
  }

  // ---- debugger access ----

  setBreakpoints(addresses: Iterable<number>): void {
    this.cpu.breakpoints.clear();
    for (const a of addresses) this.cpu.breakpoints.add(a >>> 0);
    this.cpu.hooksChanged();
  }

  setWatchpoints(list: Watchpoint[]): void {
    this.cpu.watchpoints.length = 0;
    this.cpu.watchpoints.push(...list);
    this.cpu.hooksChanged();
  }

  translate(linear: number): PageWalk {
    return walkPageTables(this.memory, this.cpu, linear);
  }

  /** Reads guest memory without side effects (MMIO other than the VGA window reads as 0xff). */
  readMemory(address: number, length: number, space: 'linear' | 'physical'): { data: Uint8Array; readable: number } {
    const data = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = (address + done) >>> 0;
      const chunk = Math.min(length - done, 0x1000 - (at & 0xfff));
      const phys = space === 'physical' ? at : this.translate(at).physical;
      if (phys === null || !this.physicalReadable(phys)) break;
      for (let i = 0; i < chunk; i++) data[done + i] = this.peekPhysical(phys + i);
      done += chunk;
      if (address + done > 0xffffffff) break;
    }
    return { data, readable: done };
  }

  /** Writes guest memory as the CPU would (ROM ignores it); returns the bytes that reached a mapped page. */
  writeMemory(address: number, bytes: Uint8Array, space: 'linear' | 'physical'): number {
    let done = 0;
    while (done < bytes.length) {
      const at = (address + done) >>> 0;
      const chunk = Math.min(bytes.length - done, 0x1000 - (at & 0xfff));
      const phys = space === 'physical' ? at : this.translate(at).physical;
      if (phys === null || !this.physicalReadable(phys)) break;
      for (let i = 0; i < chunk; i++) this.memory.write8(phys + i, bytes[done + i]);
      done += chunk;
    }
    this.cpu.fStart = 1; this.cpu.fEnd = 0; // the bytes under EIP may have changed
    return done;
  }

  private physicalReadable(phys: number): boolean {
    const page = ((phys & this.memory.a20Mask) >>> 0) >>> 12;
    return this.memory.pageKind[page] !== PageKind.Unmapped;
  }

  private peekPhysical(phys: number): number {
    const a = (phys & this.memory.a20Mask) >>> 0;
    if (this.memory.pageKind[a >>> 12] === PageKind.Mmio) {
      const vga = this.platform.vga;
      return vga && a >= VGA_WINDOW_BASE && a < VGA_WINDOW_BASE + VGA_WINDOW_SIZE ? vga.readMem(a) : 0xff;
    }
    return this.memory.read8(a);
  }

  // ---- save / restore ----

  /** Needs no disk read in flight (settleIo() first). */
  saveState(): MachineSnapshot {
    return {
      cpu: this.cpu.saveState(), a20: this.memory.a20Enabled, shadow: this.shadow?.saveState(),
      platform: this.platform.saveState(), ram: this.memory.u8.slice(),
    };
  }

  restoreState(s: MachineSnapshot): void {
    if (s.ram.length !== this.memory.ramSize) throw new Error(`the snapshot has ${s.ram.length} bytes of RAM, this machine ${this.memory.ramSize}`);
    this.platform.restoreState(s.platform);
    this.memory.restoreState({ ram: s.ram, a20: s.a20 });
    if (this.shadow && s.shadow) this.shadow.restoreState(s.shadow, this.platform.pci.pamRegions());
    this.cpu.restoreState(s.cpu);
  }

  close(): Promise<void> { return this.platform.close(); }
}
